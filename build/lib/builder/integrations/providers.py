"""Message providers: Twilio when the account (or the environment) has credentials,
else the console provider, which sends nothing and records the message in the
contact's conversation log only."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from builder.integrations import twilio_settings

log = logging.getLogger("flowdesk.sms")


class ProviderError(Exception):
    """The provider refused the message or call; `code` is its error code if it gave one.

    retryable: nothing was sent and trying again later may work (Twilio 429, 5xx, no connection).
    uncertain: the request may have gone through (e.g. the reply timed out): never send it again.
    """

    def __init__(self, message: str, code: str | None = None, retryable: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.code, self.retryable, self.uncertain = code, retryable, uncertain


class NotConfigured(ProviderError):
    """Our side is missing something (a from number, PUBLIC_URL, the agent's phone): nothing was tried."""

    def __init__(self, message: str):
        super().__init__(message, code="not_configured")


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str  # "sent" for console; "accepted" for Twilio (it has the message and reports progress later)
    from_number: str | None = None


class SmsProvider(Protocol):
    name: str

    def send_sms(self, to: str, body: str, *, key: str, message_id: int) -> Sent: ...

    def place_call(self, agent_phone: str | None, to: str, *, key: str, call_id: int) -> Sent:
        """Ring the agent, then bridge them to the contact."""
        ...


class ConsoleProvider:
    name = "console"

    def send_sms(self, to: str, body: str, *, key: str, message_id: int) -> Sent:
        log.info("console SMS to %s [%s]: %s", to, key, body)
        return Sent(sid=f"console-{uuid.uuid4().hex}", status="sent")

    def place_call(self, agent_phone: str | None, to: str, *, key: str, call_id: int) -> Sent:
        # Nothing rings: the call is recorded so the agent can log its outcome.
        log.info("console call to %s for agent phone %s [%s]", to, agent_phone or "(none)", key)
        return Sent(sid=f"console-call-{uuid.uuid4().hex}", status="simulated")


def get_provider(account_id: int) -> SmsProvider:
    """Twilio with the account's credentials (or the environment's); the console provider without any."""
    try:
        credentials = twilio_settings.credentials_for(account_id)
    except twilio_settings.UnreadableToken as exc:
        raise NotConfigured(str(exc)) from None
    if credentials is None:
        return ConsoleProvider()
    # Here, not at the top: twilio_provider builds on this module's types, and the Twilio SDK
    # (a large import) loads only in processes that send through Twilio.
    from builder.integrations.twilio_provider import TwilioProvider

    return TwilioProvider.for_app(credentials)
