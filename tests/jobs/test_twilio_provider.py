"""Outbound SMS through the Twilio provider, against the local fake Twilio API:
parameters, retries with backoff on 429/5xx, refusals, never a second send,
credentials kept out of logs, and the console provider without credentials."""

import logging
from datetime import timedelta

import pytest
import requests
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import twilio_settings
from builder.integrations.providers import ConsoleProvider, get_provider
from builder.integrations.twilio_provider import TwilioProvider
from builder.models import Message, utcnow
from jobqueue import outbox, recovery
from jobqueue.enroll import create_request
from jobqueue.queues import get_queue
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, PUBLIC_URL, connect_account
from tests.workers import free_port, kill_hard, start_worker, stop, wait_for

SMS_FLOW = {"name": "Say hi", "start": "s", "steps": {
    "s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None}}}
SERVICE_SID = "MG" + "fedcba9876543210" * 2


@pytest.fixture
def twilio(app, account, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    return fake_twilio


def send_one(app, account) -> Message:
    """Run a published Send SMS workflow for one contact, in this process."""
    wf = make_workflow(account, SMS_FLOW)
    contact = make_contact(account, first_name="Ada", phone="+14155551000")
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return db.session.scalar(select(Message))


def statuses(fake) -> list[int]:
    return [r.status for r in fake.api_requests("Messages")]


def test_workflow_sms_leaves_through_twilio_with_a_status_callback(app, account, twilio):
    message = send_one(app, account)
    [request] = twilio.api_requests("Messages")
    assert request.authorized and request.status == 201
    assert request.value("To") == "+14155551000" and request.value("Body") == "Hi Ada"
    assert request.value("From") == FROM_NUMBER and request.value("MessagingServiceSid") is None
    assert request.value("StatusCallback") == f"{PUBLIC_URL}/webhooks/twilio/message-status?message={message.id}"
    [created] = twilio.created("Messages")
    assert (message.status, message.provider, message.provider_sid) == ("accepted", "twilio", created.sid)
    assert message.attempts == 1 and message.from_number == FROM_NUMBER and message.sent_at is not None


def test_a_messaging_service_sends_when_one_is_set(app, account, fake_twilio):
    connect_account(app, fake_twilio, account.id, messaging_service_sid=SERVICE_SID)
    message = send_one(app, account)
    [request] = fake_twilio.api_requests("Messages")
    assert request.value("MessagingServiceSid") == SERVICE_SID and request.value("From") is None
    assert message.status == "accepted"


def test_429_then_success_sends_once(app, account, twilio):
    twilio.fail_next(1, 429)
    message = send_one(app, account)
    assert statuses(twilio) == [429, 201] and len(twilio.created("Messages")) == 1
    assert (message.status, message.attempts, message.error, message.error_code) == ("accepted", 2, None, None)


def test_500s_then_success_sends_once(app, account, twilio):
    twilio.fail_next(3, 500)
    message = send_one(app, account)
    assert statuses(twilio) == [500, 500, 500, 201] and len(twilio.created("Messages")) == 1
    assert message.status == "accepted" and message.attempts == 4


def test_when_the_retries_run_out_the_message_fails_with_the_code(app, account, twilio):
    twilio.fail_next(4, 503)
    message = send_one(app, account)
    assert statuses(twilio) == [503] * 4 and twilio.created("Messages") == []
    assert (message.status, message.error_code) == ("failed", "20503") and "20503" in message.error


def test_a_retry_waits_for_its_backoff(app, account, fake_twilio):
    connect_account(app, fake_twilio, account.id, retry_delays=(30,))
    fake_twilio.fail_next(1, 429)
    message = send_one(app, account)
    assert message.status == "queued" and message.retry_at > utcnow() and message.error_code == "20429"
    registry = ScheduledJobRegistry(queue=get_queue())
    assert len(registry.get_job_ids()) == 1
    outbox.deliver([message.id])  # asked early (a duplicate job, the reconciler): not yet
    assert statuses(fake_twilio) == [429]

    message.retry_at = utcnow() - timedelta(seconds=1)  # its time has come
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    db.session.refresh(message)
    assert statuses(fake_twilio) == [429, 201] and message.status == "accepted"


def test_a_retry_in_flight_long_after_the_message_was_made_is_not_taken_for_interrupted(app, account):
    contact = make_contact(account)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="hi",
                      status="sending", idempotency_key="retrying", created_at=utcnow() - timedelta(minutes=10),
                      status_at=utcnow())  # claimed just now for its third attempt
    db.session.add(message)
    db.session.commit()
    assert recovery.reconcile()["interrupted_sends"] == 0
    assert message.status == "sending"


def test_a_refusal_fails_at_once_with_twilios_error_code(app, account, twilio):
    twilio.fail_next(1, 400, 21211, "The 'To' number +14155551000 is not a valid phone number.")
    message = send_one(app, account)
    assert statuses(twilio) == [400]
    assert (message.status, message.error_code) == ("failed", "21211")
    assert message.error == "Twilio error 21211: The 'To' number +14155551000 is not a valid phone number."
    assert ScheduledJobRegistry(queue=get_queue()).get_job_ids() == []


def test_credentials_never_reach_logs_or_errors(app, account, fake_twilio, caplog):
    wrong = "0badc0ffee0badc0ffee0badc0ffee00"
    connect_account(app, fake_twilio, account.id, token=wrong)
    fake_twilio.add_account(ACCOUNT_SID, AUTH_TOKEN)  # Twilio knows the real token only
    with caplog.at_level(logging.DEBUG):
        message = send_one(app, account)
    assert (message.status, message.error_code) == ("failed", "20003")
    assert [r.authorized for r in fake_twilio.requests] == [False]
    assert wrong not in caplog.text and wrong not in message.error
    assert f"message {message.id} to contact" in caplog.text  # the failure itself is logged
    assert "Authorization" not in caplog.text


def test_unreachable_twilio_is_retried_then_fails(app, account, fake_twilio):
    connect_account(app, fake_twilio, account.id, retry_delays=(0,))
    app.config["TWILIO_API_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    message = send_one(app, account)
    assert (message.status, message.error_code, message.attempts) == ("failed", "unreachable", 2)


def test_a_reply_that_never_comes_marks_the_message_unknown_not_resent(app, account, twilio):
    app.config["TWILIO_TIMEOUT_SECONDS"] = 0.5
    release = twilio.hold_next()
    try:
        message = send_one(app, account)
    finally:
        release.set()
    assert message.status == "unknown" and message.error_code == "no_answer"
    assert len(twilio.created("Messages")) == 1 and len(twilio.api_requests("Messages")) == 1


def test_console_provider_without_credentials(app, account, fake_twilio):
    app.config.update(TWILIO_API_URL=fake_twilio.url, PUBLIC_URL=PUBLIC_URL)
    assert isinstance(get_provider(account.id), ConsoleProvider)
    message = send_one(app, account)
    assert (message.status, message.provider) == ("sent", "console") and fake_twilio.requests == []


def test_environment_credentials_are_the_fallback(app, account, fake_twilio):
    app.config.update(TWILIO_API_URL=fake_twilio.url, PUBLIC_URL=PUBLIC_URL, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER)
    assert isinstance(get_provider(account.id), TwilioProvider)
    message = send_one(app, account)
    assert message.status == "accepted" and fake_twilio.created("Messages")[0].account_sid == ACCOUNT_SID


def test_account_settings_win_over_the_environment(app, account, fake_twilio):
    env_sid = "AC" + "e" * 32
    fake_twilio.add_account(env_sid, "e" * 32)
    app.config.update(TWILIO_ACCOUNT_SID=env_sid, TWILIO_AUTH_TOKEN="e" * 32, TWILIO_FROM_NUMBER="+12025550100")
    connect_account(app, fake_twilio, account.id)
    send_one(app, account)
    [created] = fake_twilio.created("Messages")
    assert created.account_sid == ACCOUNT_SID and created.value("From") == FROM_NUMBER


def test_a_token_stored_under_another_secret_key_fails_clearly(app, account, twilio):
    app.config["SECRET_KEY"] = "a-new-secret"
    message = send_one(app, account)
    assert (message.status, message.error_code) == ("failed", "not_configured")
    assert "enter it again in Settings > Twilio" in message.error and twilio.requests == []


def test_stored_tokens_are_encrypted(app, account, twilio):
    raw = db.session.execute(db.text("SELECT auth_token_encrypted FROM twilio_settings")).scalar_one()
    assert AUTH_TOKEN not in raw and twilio_settings.decrypt_token(raw) == AUTH_TOKEN
    assert AUTH_TOKEN not in repr(twilio_settings.credentials_for(account.id))


# --- real worker processes -------------------------------------------------------

def _status(message_id: int) -> str | None:
    value = db.session.scalar(select(Message.status).where(Message.id == message_id))
    db.session.rollback()  # on SQLite a transaction holds the write lock: end it at once
    return value


def _worker_env(fake) -> dict[str, str]:
    return {"TWILIO_API_URL": fake.url, "PUBLIC_URL": PUBLIC_URL, "SECRET_KEY": "test-secret",
            "TWILIO_RETRY_DELAYS": "0,0"}


def _enroll_one(account):
    wf = make_workflow(account, SMS_FLOW)
    contact = make_contact(account, first_name="Wes", phone="+14155551001")
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    db.session.rollback()


def _message_id() -> int | None:
    value = db.session.scalar(select(Message.id))
    db.session.rollback()
    return value


@pytest.mark.slow
def test_a_worker_process_sends_through_twilio_and_retries(app, account, twilio):
    twilio.fail_next(1, 429)
    _enroll_one(account)
    worker = start_worker(app, **_worker_env(twilio))
    try:
        assert wait_for(lambda: _message_id() and _status(_message_id()) == "accepted", timeout=60), stop(worker)
    finally:
        stop(worker)
    assert statuses(twilio) == [429, 201]
    [created] = twilio.created("Messages")
    assert created.value("Body") == "Hi Wes" and created.value("StatusCallback").startswith(PUBLIC_URL)


@pytest.mark.slow
def test_a_worker_killed_mid_send_is_not_sent_twice(app, account, twilio):
    release = twilio.hold_next()  # Twilio takes the message; its reply never reaches the worker
    _enroll_one(account)
    worker = start_worker(app, **_worker_env(twilio))
    try:
        assert twilio.held.wait(timeout=60), stop(worker)
        kill_hard(worker)
    finally:
        release.set()
        stop(worker)
    message_id = _message_id()
    assert _status(message_id) == "sending"
    # What follows a crash: RQ retries the job, the reconciler sweeps, a new worker starts.
    outbox.deliver([message_id])
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    assert recovery.reconcile()["interrupted_sends"] == 1
    run_jobs(app)
    assert _status(message_id) == "unknown"
    assert len(twilio.api_requests("Messages")) == 1 and len(twilio.created("Messages")) == 1


# --- the fake itself ---------------------------------------------------------------

def test_the_fake_checks_auth_and_parameters_like_twilio(fake_twilio):
    url = f"{fake_twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    full = {"To": "+14155551000", "Body": "hi", "From": FROM_NUMBER, "StatusCallback": f"{PUBLIC_URL}/cb"}
    wrong = requests.post(url, data=full, auth=(ACCOUNT_SID, "not-the-token"), timeout=10)
    assert wrong.status_code == 401 and wrong.json()["code"] == 20003
    for missing, code in (("To", 21604), ("Body", 21602), ("From", 21603), ("StatusCallback", 21609)):
        params = {k: v for k, v in full.items() if k != missing}
        reply = requests.post(url, data=params, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
        assert (reply.status_code, reply.json()["code"]) == (400, code)
    ok = requests.post(url, data=full, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
    assert ok.status_code == 201 and ok.json()["sid"].startswith("SM") and ok.json()["status"] == "queued"
    assert [r.status for r in fake_twilio.requests] == [401, 400, 400, 400, 400, 201]
