"""The Twilio provider, on the official SDK: outbound SMS with a status callback, and
Manual Call bridging (Twilio rings the agent, then our TwiML dials the contact).

Twilio's base URL comes from TWILIO_API_URL, so tests and staging can point the
SDK at a local fake server; its error replies still raise TwilioRestException.
Error messages carry Twilio's code and reason, never credentials or request URLs.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_request_context, request
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, Timeout
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from builder.integrations.providers import CallState, NotConfigured, PlacedCall, ProviderError, Sent
from builder.integrations.twilio_settings import TwilioCredentials

log = logging.getLogger("flowdesk.sms")
TWILIO_API = "https://api.twilio.com"
WEBHOOK_PREFIX = "/webhooks/twilio"
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# The SDK logs every request URL (which names the Account SID) at INFO: keep that out of our logs.
_http_log = logging.getLogger("flowdesk.twilio.http")
_http_log.setLevel(logging.WARNING)


class RedirectingHttpClient(TwilioHttpClient):
    """Sends the SDK's requests for https://api.twilio.com to `base_url` instead."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout, logger=_http_log)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, params: dict[str, Any] | None = None,
                data: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


def _refusal(exc: TwilioRestException | TwilioServiceException) -> ProviderError:
    status = int(getattr(exc, "status", 0) or 0)
    code = str(getattr(exc, "code", None) or status)
    reason = str(getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "") or "")
    reason = reason.removeprefix("Unable to create record: ")
    retryable = status == 429 or status >= 500
    return ProviderError(f"Twilio error {code}: {reason}".rstrip(": "), code=code, retryable=retryable)


def _never_reached(exc: RequestsConnectionError) -> bool:
    """True when the connection was never made, so Twilio cannot have the request."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, ConnectTimeout) or isinstance(reason, NewConnectionError)


def _unreachable(exc: RequestsConnectionError | Timeout) -> ProviderError:
    if isinstance(exc, RequestsConnectionError) and _never_reached(exc):
        return ProviderError("Twilio could not be reached", code="unreachable", retryable=True)
    return ProviderError("Twilio did not answer in time; the request may have gone through", code="no_answer",
                         uncertain=True)


class TwilioProvider:
    name = "twilio"

    def __init__(self, credentials: TwilioCredentials, *, api_url: str, webhook_base: str | None,
                 timeout: float):
        self.credentials = credentials
        self.webhook_base = webhook_base  # PUBLIC_URL + /webhooks/twilio; None when we have no public address
        self.client = Client(credentials.account_sid, credentials.auth_token,
                             http_client=RedirectingHttpClient(api_url, timeout))

    @classmethod
    def for_app(cls, credentials: TwilioCredentials) -> TwilioProvider:
        config = current_app.config
        public = config.get("PUBLIC_URL") or (request.url_root if has_request_context() else "")
        return cls(credentials, api_url=config["TWILIO_API_URL"], timeout=config["TWILIO_TIMEOUT_SECONDS"],
                   webhook_base=public.rstrip("/") + WEBHOOK_PREFIX if public else None)

    def _call_api(self, create, **params: Any):
        try:
            return create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _refusal(exc) from None
        except (RequestsConnectionError, Timeout) as exc:
            raise _unreachable(exc) from None

    def send_sms(self, to: str, body: str, *, key: str, message_id: int) -> Sent:
        creds = self.credentials
        if creds.messaging_service_sid:
            sender: dict[str, str] = {"messaging_service_sid": creds.messaging_service_sid}
        elif creds.from_number:
            sender = {"from_": creds.from_number}
        else:
            raise NotConfigured("No Twilio sender: set a from number or a Messaging Service SID in Settings > Twilio.")
        callback = {}
        if self.webhook_base:
            callback["status_callback"] = f"{self.webhook_base}/message-status?message={message_id}"
        else:
            log.warning("PUBLIC_URL is not set: Twilio cannot report delivery of message %s", message_id)
        message = self._call_api(self.client.messages.create, to=to, body=body, **sender, **callback)
        return Sent(sid=message.sid, status="accepted", from_number=message.from_ or creds.from_number)

    def place_call(self, agent_phone: str | None, to: str, *, key: str, call_id: int) -> Sent:
        if not agent_phone:
            raise NotConfigured("Add your phone number to your profile: Twilio rings you first, then the contact.")
        if not self.credentials.from_number:
            raise NotConfigured("Calls need a Twilio phone number: set the from number in Settings > Twilio.")
        if not self.webhook_base:
            raise NotConfigured("Set PUBLIC_URL so Twilio can reach flowdesk to connect the call.")
        call = self._call_api(
            self.client.calls.create, to=agent_phone, from_=self.credentials.from_number,
            url=f"{self.webhook_base}/voice/bridge/{call_id}",
            status_callback=f"{self.webhook_base}/call-status?call={call_id}", status_callback_event=CALL_EVENTS,
        )
        return Sent(sid=call.sid, status=call.status or "queued", from_number=self.credentials.from_number)

    def place_automated_call(self, to: str, *, bridge_to: str, whisper: str | None, call_id: int) -> PlacedCall:
        if not self.credentials.from_number:
            raise NotConfigured("Calls need a Twilio phone number: set the from number in Settings > Twilio.")
        if not self.webhook_base:
            raise NotConfigured("Set PUBLIC_URL so Twilio can reach flowdesk to connect the call.")
        # Machine detection: Twilio tells the connect URL (and the status callbacks) whether a person or a
        # voicemail answered, so voicemail is an outcome of its own and no user is rung for it.
        call = self._call_api(
            self.client.calls.create, to=to, from_=self.credentials.from_number,
            url=f"{self.webhook_base}/voice/connect/{call_id}", machine_detection="Enable",
            status_callback=f"{self.webhook_base}/call-status?call={call_id}", status_callback_event=CALL_EVENTS,
        )
        return PlacedCall(sid=call.sid, status=call.status or "queued", from_number=self.credentials.from_number)

    def fetch_call(self, sid: str) -> CallState | None:
        call = self._call_api(self.client.calls(sid).fetch)
        duration = int(call.duration) if str(call.duration or "").isdigit() else None
        return CallState(status=str(call.status or ""), answered_by=call.answered_by,
                         duration=duration)
