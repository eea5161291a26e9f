"""Message providers: Twilio when the account (or the environment) has credentials,
else the console provider, which sends nothing and records the message in the
contact's conversation log only."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from builder.integrations import twilio_settings
from engine.actions.call import OUTCOMES as CALL_OUTCOMES

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


@dataclass(frozen=True)
class PlacedCall:
    """An automated call the provider took: Twilio reports its progress later by status callbacks; the
    console provider simulates one and says at once how it ended (`outcome`)."""

    sid: str
    status: str
    from_number: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class CallState:
    """What the provider says of a call when asked: its status and, if known, who answered."""

    status: str
    answered_by: str | None = None
    duration: int | None = None


class SmsProvider(Protocol):
    name: str

    def send_sms(self, to: str, body: str, *, key: str, message_id: int) -> Sent: ...

    def place_call(self, agent_phone: str | None, to: str, *, key: str, call_id: int) -> Sent:
        """Ring the agent, then bridge them to the contact."""
        ...

    def place_automated_call(self, to: str, *, bridge_to: str, whisper: str | None, call_id: int) -> PlacedCall:
        """Ring the contact; once they answer (a person, not a machine), ring `bridge_to` and connect them."""
        ...

    def fetch_call(self, sid: str) -> CallState | None:
        """The call's state as the provider has it now (None: it cannot tell)."""
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

    def place_automated_call(self, to: str, *, bridge_to: str, whisper: str | None, call_id: int) -> PlacedCall:
        # Nothing rings: the outcome is the one the app is set to simulate (CONSOLE_CALL_OUTCOME), so a
        # demo or a test run can follow either exit of the step.
        outcome = current_app.config.get("CONSOLE_CALL_OUTCOME") or "answered"
        if outcome not in CALL_OUTCOMES:
            log.warning("CONSOLE_CALL_OUTCOME %r is not one of %s; simulating answered", outcome, CALL_OUTCOMES)
            outcome = "answered"
        log.info("console call %s to %s, connecting %s (whisper %r): simulated %s",
                 call_id, to, bridge_to, whisper, outcome)
        return PlacedCall(sid=f"console-call-{uuid.uuid4().hex}", status="simulated", outcome=outcome)

    def fetch_call(self, sid: str) -> CallState | None:
        return None  # a simulated call's outcome was recorded when it was placed


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
