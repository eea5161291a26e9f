"""Message providers. The console provider is the embedded default: it sends
nothing and records the message in the contact's conversation log only."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

log = logging.getLogger("flowdesk.sms")


class ProviderError(Exception):
    """The provider refused the message; `code` is its error code if it gave one."""

    def __init__(self, message: str, code: str | None = None, retryable: bool = False):
        super().__init__(message)
        self.code, self.retryable = code, retryable


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str  # the provider's status: "sent" for console, "queued"/"accepted" for Twilio


class SmsProvider(Protocol):
    name: str

    def send_sms(self, to: str, body: str, *, key: str) -> Sent: ...

    def place_call(self, agent_phone: str | None, to: str, *, key: str) -> Sent:
        """Ring the agent, then bridge them to the contact."""
        ...


class ConsoleProvider:
    name = "console"

    def send_sms(self, to: str, body: str, *, key: str) -> Sent:
        log.info("console SMS to %s [%s]: %s", to, key, body)
        return Sent(sid=f"console-{uuid.uuid4().hex}", status="sent")

    def place_call(self, agent_phone: str | None, to: str, *, key: str) -> Sent:
        # Nothing rings: the call is recorded so the agent can log its outcome.
        log.info("console call to %s for agent phone %s [%s]", to, agent_phone or "(none)", key)
        return Sent(sid=f"console-call-{uuid.uuid4().hex}", status="simulated")


def get_provider() -> SmsProvider:
    if current_app.config.get("TWILIO_ACCOUNT_SID") and current_app.config.get("TWILIO_AUTH_TOKEN"):
        # Twilio arrives with the messaging work; until then refuse rather than pretend.
        raise ProviderError("Twilio credentials are set but the Twilio provider is not available yet")
    return ConsoleProvider()
