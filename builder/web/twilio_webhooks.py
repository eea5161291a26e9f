"""Twilio webhooks: inbound SMS, message status, call status and the call bridge.

Every request must carry a valid X-Twilio-Signature made with the auth token of
the Twilio account it names (AccountSid); anything else gets 403 and changes
nothing. Twilio signs the URL it called, so behind a proxy set PUBLIC_URL to the
address Twilio uses; without it the request's own URL is checked.

They answer fast: status callbacks update one row; an inbound SMS is stored once
(per MessageSid) and a job records it in the conversation (queue/inbound.py).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import or_, select
from twilio.request_validator import RequestValidator
from twilio.twiml import TwiML
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.integrations import twilio_settings, twilio_status
from builder.integrations.twilio_provider import WEBHOOK_PREFIX
from builder.models import Call, CallStep, TwilioSettings
from jobqueue import calls, inbound
from jobqueue.effects import carry_out_committed

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix=WEBHOOK_PREFIX)


def _signed_url() -> str:
    """The URL as Twilio requested it, which is what it signed."""
    public = current_app.config.get("PUBLIC_URL")
    if not public:
        return request.url
    query = request.query_string.decode()
    return public.rstrip("/") + request.path + (f"?{query}" if query else "")


def _verified_accounts() -> list[int]:
    """The flowdesk accounts whose Twilio credentials signed this request; 403 when none did."""
    signature = request.headers.get("X-Twilio-Signature", "")
    account_sid = request.form.get("AccountSid", "")
    accounts: list[int] = []
    if signature and account_sid:
        url = _signed_url()
        for credentials in twilio_settings.signers_for(account_sid):
            if RequestValidator(credentials.auth_token).validate(url, request.form, signature):
                accounts.extend(a for a in twilio_settings.accounts_using(credentials) if a not in accounts)
    if not accounts:
        log.warning("refused a Twilio webhook on %s: bad or missing signature", request.path)
        abort(403)
    return accounts


def _twiml(response: TwiML) -> Response:
    return Response(str(response), mimetype="text/xml")


def _int_arg(name: str, source: dict | None = None) -> int | None:
    value = (source if source is not None else request.args).get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _inbound_account(account_ids: list[int]) -> int:
    """Several accounts may share a Twilio account: the one whose number (or Messaging
    Service) the SMS was sent to; else the oldest of them."""
    if len(account_ids) > 1:
        to, service = request.form.get("To", ""), request.form.get("MessagingServiceSid", "")
        match = db.session.scalar(
            select(TwilioSettings.account_id).where(
                TwilioSettings.account_id.in_(account_ids),
                or_(TwilioSettings.from_number == to, TwilioSettings.messaging_service_sid == service),
            ).order_by(TwilioSettings.account_id).limit(1)
        )
        if match is not None:
            return match
    return account_ids[0]


@bp.post("/sms")
def inbound_sms():
    accounts = _verified_accounts()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    if sid:
        params = {**request.form.to_dict(flat=True), "MessageSid": sid}
        event_id, pending = inbound.accept(_inbound_account(accounts), params)
        if pending:
            inbound.enqueue_processing(event_id)
    return _twiml(MessagingResponse())  # empty: replies are for people and workflows to send


@bp.post("/message-status")
def message_status():
    form = request.form
    moved = twilio_status.record_message_status(
        _verified_accounts(), sid=form.get("MessageSid") or form.get("SmsSid") or "",
        twilio_status=(form.get("MessageStatus") or form.get("SmsStatus") or "").lower(),
        error_code=form.get("ErrorCode") or None, message_id=_int_arg("message"),
    )
    carry_out_committed(AfterCommit(updated_messages=moved))
    return Response(status=204)


@bp.post("/call-status")
def call_status():
    form = request.form
    accounts, sid, status = _verified_accounts(), form.get("CallSid", ""), form.get("CallStatus", "").lower()
    duration, call_id = _int_arg("CallDuration", form), _int_arg("call")
    twilio_status.record_call_status(accounts, sid=sid, twilio_status=status, duration=duration, call_id=call_id)
    if sid:  # a Call step's call: a final status is its outcome, and its run goes on
        calls.status_reported(accounts, sid=sid, call_id=call_id, twilio_status=status,
                              answered_by=form.get("AnsweredBy") or None, duration=duration)
    return Response(status=204)


@bp.post("/voice/bridge/<int:call_id>")
def voice_bridge(call_id: int):
    """Twilio asks what to do once the agent answers: dial the contact from our number."""
    accounts = _verified_accounts()
    call = db.session.scalar(select(Call).where(Call.id == call_id, Call.account_id.in_(accounts)))
    response = VoiceResponse()
    sid = request.form.get("CallSid")
    if call is None or call.status in twilio_status.FINAL_CALL or call.provider_sid not in (None, sid):
        response.hangup()
        return _twiml(response)
    credentials = twilio_settings.credentials_for(call.account_id)
    caller_id = credentials.from_number if credentials else None
    response.dial(call.to_number, caller_id=caller_id)
    return _twiml(response)


def _automated_call(call_id: int, accounts: list[int]) -> tuple[Call, CallStep] | None:
    """A Call step's call that is still going on, if this request is about it."""
    row = db.session.execute(select(Call, CallStep).join(CallStep, CallStep.call_id == Call.id).where(
        Call.id == call_id, Call.account_id.in_(accounts))).one_or_none()
    if row is None:
        return None
    call, step = row
    sid = request.form.get("CallSid")
    if step.outcome is not None or call.status in twilio_status.FINAL_CALL or call.provider_sid not in (None, sid):
        return None
    return call, step


@bp.post("/voice/connect/<int:call_id>")
def voice_connect(call_id: int):
    """The contact has picked up (a Call step's call): ring the user and connect them, after the whisper.

    Machine detection runs first: when a machine answered, hang up (the outcome is voicemail)."""
    accounts = _verified_accounts()
    found = _automated_call(call_id, accounts)
    response = VoiceResponse()
    answered_by = request.form.get("AnsweredBy") or ""
    if found is None or answered_by.startswith(("machine", "fax")):
        if found is not None:
            found[1].answered_by = answered_by[:30]
            db.session.commit()
        response.hangup()
        return _twiml(response)
    call, step = found
    if answered_by:
        step.answered_by = answered_by[:30]
    db.session.commit()
    credentials = twilio_settings.credentials_for(call.account_id)
    dial = response.dial(caller_id=credentials.from_number if credentials else None)
    whisper_url = f"{_public_base()}/voice/whisper/{call.id}" if step.whisper_name else None
    dial.number(step.bridge_number, url=whisper_url)
    return _twiml(response)


@bp.post("/voice/whisper/<int:call_id>")
def voice_whisper(call_id: int):
    """Said to the user who picks up, before the contact is connected: who is calling."""
    accounts = _verified_accounts()
    step = db.session.scalar(select(CallStep).join(Call, Call.id == CallStep.call_id).where(
        CallStep.call_id == call_id, Call.account_id.in_(accounts)))
    response = VoiceResponse()
    if step is not None and step.whisper_name:
        response.say(f"Call from {step.whisper_name}. Connecting you now.")  # TwiML escapes it as XML text
    return _twiml(response)


def _public_base() -> str:
    public = current_app.config.get("PUBLIC_URL") or request.url_root
    return public.rstrip("/") + WEBHOOK_PREFIX
