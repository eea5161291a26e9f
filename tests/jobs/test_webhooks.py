"""Twilio webhooks, posted and signed by the fake Twilio exactly as Twilio does:
message and call statuses, inbound SMS, the call bridge, and signature checks."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.integrations import twilio_settings
from builder.models import Account, Call, Contact, InboundEvent, ManualAction, Message
from jobqueue import enroll, inbound
from tests.factories import make_contact, make_workflow, run_jobs
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, PUBLIC_URL, connect_account

SMS_URL = f"{PUBLIC_URL}/webhooks/twilio/sms"
SMS_FLOW = {"name": "Say hi", "start": "s", "steps": {
    "s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None}}}
AGENT_PHONE = "+12025550187"
OTHER_TOKEN = "1234567890abcdef1234567890abcdef"


@pytest.fixture
def twilio(app, client, account, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    return fake_twilio


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sent_message(app, account) -> Message:
    wf = make_workflow(account, SMS_FLOW)
    contact = make_contact(account, first_name="Ada", phone="+14155551000")
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return db.session.scalar(select(Message))


def fresh(row):
    db.session.refresh(row)
    return row


# --- message status --------------------------------------------------------------

def test_status_callbacks_move_a_message_forward_and_never_back(app, account, twilio):
    message = sent_message(app, account)
    assert twilio.message_status(message.provider_sid, "sent").status == 204
    assert fresh(message).status == "sent"
    assert twilio.message_status(message.provider_sid, "delivered").status == 204
    delivered_at = fresh(message).status_at
    assert message.status == "delivered" and delivered_at is not None
    for late in ("delivered", "sent", "queued", "sending"):  # duplicates and stragglers
        assert twilio.message_status(message.provider_sid, late).status == 204
    assert (fresh(message).status, message.status_at) == ("delivered", delivered_at)


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_a_delivery_failure_records_twilios_error_code(app, account, twilio, status):
    message = sent_message(app, account)
    twilio.message_status(message.provider_sid, status, error_code="30003")
    assert (fresh(message).status, message.error_code, message.error) == (status, "30003", "Twilio error 30003")


def test_a_callback_that_overtakes_the_worker_still_finds_its_message(app, account, twilio):
    contact = make_contact(account)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="hi",
                      status="sending", idempotency_key="in-flight")
    db.session.add(message)
    db.session.commit()
    params = {"MessageSid": "SM" + "9" * 32, "AccountSid": ACCOUNT_SID, "MessageStatus": "sent"}
    url = f"{PUBLIC_URL}/webhooks/twilio/message-status?message={message.id}"
    assert twilio.post(url, params).status == 204
    assert (fresh(message).status, message.provider_sid) == ("sent", "SM" + "9" * 32)


def test_another_accounts_callback_cannot_touch_a_message(app, account, twilio):
    message = sent_message(app, account)
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    other_sid = "AC" + "f" * 32
    twilio_settings.save(other.id, account_sid=other_sid, auth_token=OTHER_TOKEN, from_number="+12025550100",
                         messaging_service_sid=None, user_id=None)
    db.session.commit()
    params = {"MessageSid": message.provider_sid, "AccountSid": other_sid, "MessageStatus": "failed"}
    url = f"{PUBLIC_URL}/webhooks/twilio/message-status?message={message.id}"
    assert twilio.post(url, params, token=OTHER_TOKEN).status == 204  # validly signed, but not its message
    assert fresh(message).status == "accepted"


# --- signatures ------------------------------------------------------------------

BAD_SIGNATURES = {
    "missing": {"signature": ""},
    "wrong token": {"token": OTHER_TOKEN},
    "made up": {"signature": "bm90IGEgc2lnbmF0dXJl"},
}


@pytest.mark.parametrize("bad", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_bad_or_missing_signatures_get_403_and_change_nothing(app, account, users, as_user, twilio, bad):
    message = sent_message(app, account)
    assert twilio.message_status(message.provider_sid, "delivered", **bad).status == 403
    assert fresh(message).status == "accepted"

    reply = twilio.inbound_sms(SMS_URL, from_="+14155551000", body="hello?", **bad)
    assert reply.status == 403 and count(InboundEvent) == 0

    call_id, call_sid = dial(app, account, users, as_user, twilio)
    assert twilio.call_status(call_sid, "completed", duration=30, **bad).status == 403
    assert db.session.get(Call, call_id).status == "queued"
    reply = twilio.fetch_bridge(call_sid, **bad)
    assert reply.status == 403 and "Dial" not in reply.text


def test_a_signature_for_other_parameters_is_refused(app, account, twilio):
    message = sent_message(app, account)
    params = {"MessageSid": message.provider_sid, "AccountSid": ACCOUNT_SID, "MessageStatus": "delivered"}
    url = f"{PUBLIC_URL}/webhooks/twilio/message-status?message={message.id}"
    signature = twilio_signature(url, params)
    tampered = {**params, "MessageStatus": "failed"}
    assert twilio.post(url, tampered, signature=signature).status == 403
    assert fresh(message).status == "accepted"


def test_an_unknown_twilio_account_is_refused(app, account, twilio):
    reply = twilio.inbound_sms(SMS_URL, from_="+14155551000", body="hi", account_sid="AC" + "0" * 32)
    assert reply.status == 403 and count(InboundEvent) == 0


def test_without_public_url_the_request_url_is_what_was_signed(app, account, twilio):
    app.config["PUBLIC_URL"] = ""
    assert twilio.inbound_sms(SMS_URL, from_="+14155551000", body="hi").status == 403
    assert twilio.inbound_sms("http://localhost/webhooks/twilio/sms", from_="+14155551000", body="hi").status == 200


def twilio_signature(url: str, params: dict) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


# --- inbound SMS -----------------------------------------------------------------

def test_an_inbound_sms_is_recorded_once_even_when_posted_twice(app, account, twilio):
    contact = make_contact(account, first_name="Ada", phone="+14155551000")
    for _ in range(2):
        reply = twilio.inbound_sms(SMS_URL, from_="+14155551000", body="Yes please", message_sid="SM" + "1" * 32)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/xml")
        assert ET.fromstring(reply.text).tag == "Response" and len(ET.fromstring(reply.text)) == 0
    assert count(InboundEvent) == 1
    run_jobs(app)
    twilio.inbound_sms(SMS_URL, from_="+14155551000", body="Yes please", message_sid="SM" + "1" * 32)
    run_jobs(app)
    [message] = db.session.scalars(select(Message)).all()
    assert (message.direction, message.contact_id, message.body) == ("inbound", contact.id, "Yes please")
    assert (message.status, message.from_number, message.to_number) == ("received", "+14155551000", FROM_NUMBER)
    assert message.provider_sid == "SM" + "1" * 32
    assert db.session.scalar(select(InboundEvent.message_id)) == message.id


def test_a_reply_from_a_new_number_creates_the_contact(app, account, twilio):
    twilio.inbound_sms(SMS_URL, from_="+14155551001", body="Who is this?")
    run_jobs(app)
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+14155551001"))
    assert contact is not None and contact.account_id == account.id
    assert db.session.scalar(select(Message.contact_id)) == contact.id


def test_a_reply_goes_to_the_contact_last_texted_at_that_number(app, account, twilio):
    make_contact(account, first_name="Older", phone="+14155551000")
    message = sent_message(app, account)  # texts a second contact with the same number
    twilio.inbound_sms(SMS_URL, from_="+14155551000", body="Thanks")
    run_jobs(app)
    reply = db.session.scalar(select(Message).where(Message.direction == "inbound"))
    assert reply.contact_id == message.contact_id


def test_reactions_see_each_inbound_sms_once(app, account, twilio):
    seen = []
    inbound.reaction(lambda sms, after: seen.append((sms.body, sms.new_contact)))
    try:
        twilio.inbound_sms(SMS_URL, from_="+14155551000", body="STOP", message_sid="SM" + "2" * 32)
        event_id = db.session.scalar(select(InboundEvent.id))
        assert inbound.process_event(event_id).body == "STOP"
        assert inbound.process_event(event_id) is None  # a second job for the same event
        run_jobs(app)  # the webhook's own job
    finally:
        inbound.REACTIONS.pop()
    assert seen == [("STOP", True)] and count(Message) == 1


def test_a_sender_that_is_not_a_phone_number_is_kept_but_not_filed(app, account, twilio):
    assert twilio.inbound_sms(SMS_URL, from_="TWILIO", body="Your code is 1234").status == 200
    run_jobs(app)
    event = db.session.scalar(select(InboundEvent))
    assert event.processed_at is not None and "not a phone number" in event.note
    assert count(Message) == 0 and count(Contact) == 0


def test_inbound_sms_goes_to_the_account_whose_number_was_texted(app, account, twilio):
    other = Account(name="Branch")
    db.session.add(other)
    db.session.commit()
    twilio_settings.save(other.id, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+12025550100",
                         messaging_service_sid=None, user_id=None)
    db.session.commit()
    twilio.inbound_sms(SMS_URL, from_="+14155551000", to="+12025550100", body="For the branch")
    run_jobs(app)
    assert db.session.scalar(select(Message.account_id)) == other.id


def test_unprocessed_events_are_requeued_by_the_reconciler(app, account, twilio):
    event_id, pending = inbound.accept(account.id, {"MessageSid": "SM" + "3" * 32, "From": "+14155551000",
                                                    "To": FROM_NUMBER, "Body": "lost job"})
    assert pending
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    from jobqueue import recovery

    assert recovery.reconcile()["inbound_events"] == 1
    run_jobs(app)
    assert db.session.scalar(select(Message.body)) == "lost job"
    assert recovery.reconcile()["inbound_events"] == 0


# --- calls -----------------------------------------------------------------------

def call_action(app, account, users) -> ManualAction:
    graph = {"name": "Call them", "start": "assign", "steps": {
        "assign": {"type": "assign_user", "config": {"user_ids": [users["agent"].id]}, "next": "call"},
        "call": {"type": "manual_call", "config": {}, "next": None}}}
    wf = make_workflow(account, graph)
    contact = make_contact(account, first_name="Cal", phone="+14155551000")
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return db.session.scalar(select(ManualAction))


def dial(app, account, users, as_user, fake) -> tuple[int, str]:
    users["agent"].phone = AGENT_PHONE
    db.session.commit()
    action = call_action(app, account, users)
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/dial")
    assert resp.status_code == 201, resp.json
    [created] = fake.created("Calls")
    return resp.json["call_id"], created.sid


def test_dial_rings_the_agent_and_the_bridge_dials_the_contact(app, account, users, as_user, twilio):
    call_id, sid = dial(app, account, users, as_user, twilio)
    [request] = twilio.api_requests("Calls")
    assert request.value("To") == AGENT_PHONE and request.value("From") == FROM_NUMBER
    assert request.value("Url") == f"{PUBLIC_URL}/webhooks/twilio/voice/bridge/{call_id}"
    assert request.value("StatusCallback") == f"{PUBLIC_URL}/webhooks/twilio/call-status?call={call_id}"
    assert request.params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    call = db.session.get(Call, call_id)
    assert (call.provider, call.provider_sid, call.status, call.to_number) == ("twilio", sid, "queued", "+14155551000")

    reply = twilio.fetch_bridge(sid)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/xml")
    [dial_verb] = ET.fromstring(reply.text)
    assert (dial_verb.tag, dial_verb.get("callerId"), dial_verb.text) == ("Dial", FROM_NUMBER, "+14155551000")


def test_call_status_records_progress_and_duration(app, account, users, as_user, twilio):
    call_id, sid = dial(app, account, users, as_user, twilio)
    for status in ("initiated", "ringing", "in-progress"):
        assert twilio.call_status(sid, status).status == 204
    assert db.session.get(Call, call_id).status == "in-progress"
    twilio.call_status(sid, "completed", duration=42)
    twilio.call_status(sid, "ringing")  # late
    call = fresh(db.session.get(Call, call_id))
    assert (call.status, call.duration_seconds) == ("completed", 42) and call.ended_at is not None
    [hangup] = ET.fromstring(twilio.fetch_bridge(sid).text)  # a finished call is never bridged again
    assert hangup.tag == "Hangup"


def test_dial_without_an_agent_phone_is_422_and_places_nothing(app, account, users, as_user, twilio):
    action = call_action(app, account, users)
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/dial")
    assert resp.status_code == 422 and "phone number" in resp.json["error"]["message"]
    assert twilio.requests == [] and count(Call) == 0


def test_a_call_twilio_refuses_is_502_and_recorded(app, account, users, as_user, twilio):
    users["agent"].phone = AGENT_PHONE
    db.session.commit()
    action = call_action(app, account, users)
    twilio.fail_next(1, 400, 21215, "Account not authorized to call +12025550187.")
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/dial")
    assert resp.status_code == 502 and "21215" in resp.json["error"]["message"]
    call = db.session.scalar(select(Call))
    assert call.status == "failed" and "21215" in call.error and call.ended_at is not None
