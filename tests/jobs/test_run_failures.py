"""Failures a workflow can act on, through the real engine, database, RQ, a local HTTP receiver and the fake
Twilio API: a failed run retried from its failed step (nothing before it repeated), the step's retry policy
in the outboxes, "On failure" exits, notify-on-failure, and the failed count of the workflows list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from builder.extensions import db
from builder.models import (
    ContactTag,
    Enrollment,
    ExecutionLog,
    Message,
    Note,
    Notification,
    OutboundRequest,
    utcnow,
)
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.fake_twilio import connect_account
from tests.http_receiver import http_receiver


@pytest.fixture
def receiver(app):
    with http_receiver(app) as got:
        yield got


@pytest.fixture
def twilio(app, client, account, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    return fake_twilio


def sms_then_webhook(url: str, **webhook_config) -> dict:
    return {"name": "Hand-off", "start": "s1", "steps": {
        "s1": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "s2"},
        "s2": {"type": "webhook", "config": {"url": url, "retries": 0, **webhook_config}, "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "handed-off"}, "next": None},
    }}


def the_run() -> Enrollment:
    db.session.expire_all()
    return db.session.scalars(select(Enrollment)).one()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def due(model) -> None:
    """Make every retry due now (the outboxes check retry_at, whoever asks)."""
    db.session.execute(update(model).values(retry_at=None))
    db.session.commit()


def enroll(app, account, graph: dict, **contact_fields):
    contact = make_contact(account, first_name="Ada", phone="+14155550111", **contact_fields)
    wf = make_workflow(account, graph)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return wf, contact


def test_a_failed_webhook_retried_from_its_step_completes_without_repeating_the_sms(
        app, account, as_user, receiver, twilio):
    receiver.answer(500, "down")
    wf, contact = enroll(app, account, sms_then_webhook(receiver.base + "/crm"))
    run = the_run()
    assert run.status == "failed" and run.current_step == "s2" and "HTTP 500" in run.error
    assert len(twilio.created("Messages")) == 1
    manager = as_user("manager")
    assert manager.get("/api/workflows").json[0]["counts"]["failed"] == 1

    # The receiver is fixed; the run goes on from the webhook, on its own version.
    receiver.answer(200, {"ok": True})
    resp = manager.post(f"/api/workflows/{wf.id}/runs/{run.id}/retry", json={"version": "own"})
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "active" and resp.json["current_step"] == "s2"
    run_jobs(app)

    run = the_run()
    assert run.status == "completed" and run.error is None
    assert len(twilio.created("Messages")) == 1  # the earlier Send SMS is not sent again
    assert count(Message) == 1
    assert [r.path for r in receiver.received] == ["/crm", "/crm"]
    keys = [r.headers["Idempotency-Key"] for r in receiver.received]
    assert keys[0] != keys[1]  # the retried step run has a fresh key: the receiver sees a new request
    assert count(ContactTag, ContactTag.contact_id == contact.id, ContactTag.tag == "handed-off") == 1
    outcomes = [(r.step_id, r.outcome) for r in db.session.scalars(select(ExecutionLog).order_by(ExecutionLog.id))]
    assert [o for o in outcomes if o[0] == "s1"] == [("s1", "ok")]  # logged once: not repeated
    assert ("s2", "failed") in outcomes and outcomes[-2:] == [("s2", "ok"), ("s3", "ok")]
    assert manager.get("/api/workflows").json[0]["counts"]["failed"] == 0


def test_retry_on_the_latest_version_and_the_refusals(app, account, as_user, receiver, users):
    receiver.answer(500, "down")
    wf, contact = enroll(app, account, sms_then_webhook(receiver.base + "/crm"))
    run = the_run()
    manager = as_user("manager")
    base = f"/api/workflows/{wf.id}/runs/{run.id}/retry"
    # A latest version without the failed step: 422 naming it.
    graph = sms_then_webhook(receiver.base + "/crm")
    graph["steps"]["s1"]["next"] = "s3"
    del graph["steps"]["s2"]
    assert manager.put(f"/api/workflows/{wf.id}", json=graph).status_code == 200
    assert manager.post(f"/api/workflows/{wf.id}/publish", json={}).status_code == 200, "published"
    resp = manager.post(base, json={"version": "latest"})
    assert resp.status_code == 422 and "'s2'" in resp.json["error"]["message"]
    assert resp.json["error"]["fields"]["version"]
    # The contact has another open run of the workflow: 409.
    other = Enrollment(account_id=account.id, workflow_id=wf.id, version_id=wf.published_version_id,
                       contact_id=contact.id, status="waiting", current_step="s1", source_key="other")
    db.session.add(other)
    db.session.commit()
    resp = manager.post(base, json={"version": "own"})
    assert resp.status_code == 409 and "another open run" in resp.json["error"]["message"]
    other.status = "completed"
    db.session.commit()
    # Agents may not retry; an unknown version word is a 422.
    assert as_user("agent").post(base, json={"version": "own"}).status_code == 403
    assert manager.post(base, json={"version": "newest"}).status_code == 422
    receiver.answer(200, {"ok": True})
    assert manager.post(base, json={"version": "own"}).status_code == 202
    # Retrying a run that is no longer failed: 409.
    assert manager.post(base, json={"version": "own"}).status_code == 409
    run_jobs(app)
    assert the_run_by_id(run.id).status == "completed"


def the_run_by_id(run_id: int) -> Enrollment:
    db.session.expire_all()
    return db.session.get(Enrollment, run_id)


def test_retry_all_failed_reopens_every_failed_run(app, account, as_user, receiver):
    for _ in range(2):
        receiver.answer(500, "down")
    wf = make_workflow(account, sms_then_webhook(receiver.base + "/crm"))
    contacts = [make_contact(account, first_name=f"C{n}", phone=f"+1415555020{n}") for n in range(2)]
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "failed") == 2
    resp = as_user("admin").post(f"/api/workflows/{wf.id}/runs/retry-failed", json={"version": "latest"})
    assert resp.status_code == 202 and len(resp.json["retried"]) == 2 and resp.json["skipped"] == []
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "completed") == 2
    assert count(Message) == 2  # one text per contact, from the first pass only


def test_the_webhook_takes_its_retry_policy_from_the_step(app, account, receiver):
    for _ in range(4):
        receiver.answer(500, "down")
    app.config["WEBHOOK_RETRY_DELAYS"] = [3600]  # not used: the step's backoff is
    graph = {"name": "Policy", "start": "w", "steps": {
        "w": {"type": "webhook", "config": {"url": receiver.base + "/x", "retries": 0, "retry_attempts": 2,
                                            "retry_backoff_seconds": 1}, "next": None}}}
    enroll(app, account, graph)
    request = db.session.scalars(select(OutboundRequest)).one()
    assert request.max_attempts == 3 and request.retry_backoff_seconds == 1
    for wait in (1, 2):  # the retries wait in the scheduler (1 s, then 2 s): let them come due
        # Set from the policy's delay, not WEBHOOK_RETRY_DELAYS' hour (it may already be due on a slow machine).
        assert request.retry_at is not None and (request.retry_at - utcnow()).total_seconds() <= wait
        due(OutboundRequest)
        run_scheduled_jobs(app)
        run_jobs(app)
        db.session.refresh(request)
    assert len(receiver.received) == 3
    run = the_run()
    assert run.status == "failed" and "(after 3 attempts)" in run.error


def test_a_provider_refusal_is_retried_by_the_outbox_under_the_steps_policy(app, account, twilio):
    twilio.fail_next(3, 503)
    app.config["TWILIO_RETRY_DELAYS"] = []  # by default a 503 would fail the text at once
    graph = {"name": "SMS policy", "start": "s", "steps": {
        "s": {"type": "send_sms", "config": {"message": "Hi", "retry_attempts": 3, "retry_backoff_seconds": 1},
              "next": None}}}
    enroll(app, account, graph)
    for _ in range(3):
        due(Message)
        run_scheduled_jobs(app)
        run_jobs(app)
    db.session.expire_all()
    message = db.session.scalars(select(Message)).one()
    assert message.max_attempts == 4 and message.attempts == 4
    assert message.status == "accepted" and message.provider_sid
    assert len(twilio.created("Messages")) == 1  # sent once, after three refusals


def test_without_a_policy_the_outbox_keeps_todays_rule(app, account, twilio):
    twilio.fail_next(1, 503)
    app.config["TWILIO_RETRY_DELAYS"] = []
    enroll(app, account, {"name": "Plain", "start": "s", "steps": {
        "s": {"type": "send_sms", "config": {"message": "Hi"}, "next": None}}})
    db.session.expire_all()
    message = db.session.scalars(select(Message)).one()
    assert message.max_attempts is None and message.status == "failed" and message.attempts == 1


def test_on_failure_exit_and_notify_on_failure(app, account, users, receiver):
    receiver.answer(400, "no such lead")
    graph = {"name": "Lead sync", "start": "w", "settings": {"notify_on_failure": [users["manager"].id]},
             "steps": {
                 "w": {"type": "webhook", "config": {"url": receiver.base + "/a", "retries": 0,
                                                     "failure_next": "n"}, "next": "t"},
                 "t": {"type": "add_tag", "config": {"tag": "synced"}, "next": None},
                 "n": {"type": "add_note", "config": {"body": "Sync failed: {{ steps.w.error }}"}, "next": None}}}
    enroll(app, account, graph)
    run = the_run()
    assert run.status == "completed"  # the failure took the On failure exit
    rows = list(db.session.scalars(select(ExecutionLog).order_by(ExecutionLog.id)))
    assert [(r.step_id, r.outcome) for r in rows][-2:] == [("w", "failed"), ("n", "ok")]
    note = db.session.scalars(select(Note)).one()
    assert "HTTP 400: no such lead" in note.body
    assert count(Notification) == 0  # the run did not fail

    # Without an On failure exit the run fails, and the manager hears of it once.
    receiver.answer(400, "no such lead")
    graph["steps"]["w"]["config"].pop("failure_next")
    graph["steps"].pop("n")
    graph["name"] = "Lead sync 2"
    enroll(app, account, graph, email="ada@example.test")
    run_jobs(app)
    [notification] = db.session.scalars(select(Notification)).all()
    assert notification.user_id == users["manager"].id
    assert "Lead sync 2" in notification.title
    assert "Ada" in notification.body and "HTTP 400" in notification.body
