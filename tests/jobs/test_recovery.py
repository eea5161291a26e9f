"""The reconciler finds work whose job was lost and runs it again, once."""

import logging
from datetime import timedelta

from redis import Redis
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Enrollment, ManualAction, Message, Note, utcnow
from jobqueue import enroll, recovery
from tests.factories import make_contact, make_workflow, run_jobs

NOTE = {"type": "add_note", "config": {"body": "hello"}, "next": None}


def redis_restart(app) -> None:
    """Redis here keeps nothing on disk: a restart forgets every queue and timer."""
    Redis.from_url(app.config["REDIS_URL"]).flushdb()


def statuses() -> list[str]:
    return list(db.session.scalars(select(Enrollment.status).order_by(Enrollment.id)))


def test_batches_lost_with_redis_are_enqueued_again(app, account):
    wf = make_workflow(account, {"name": "n", "start": "a", "steps": {"a": NOTE}})
    contacts = [make_contact(account) for _ in range(120)]  # 3 batches of 50
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    redis_restart(app)
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    assert recovery.reconcile()["missing_batches"] == 3
    run_jobs(app)
    assert statuses() == ["completed"] * 120
    assert db.session.scalar(select(func.count()).select_from(Note)) == 120
    assert recovery.reconcile()["missing_batches"] == 0


def test_runs_left_active_are_advanced(app, account):
    wf = make_workflow(account, {"name": "n", "start": "a", "steps": {"a": NOTE}})
    contact = make_contact(account)
    bulk = enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    redis_restart(app)
    enroll.create_batch_enrollments(bulk.id, 0)  # enrolled, then the job died before advancing
    assert statuses() == ["active"]
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    assert recovery.reconcile()["stale_active"] == 1
    run_jobs(app)
    assert statuses() == ["completed"]


def test_recent_active_runs_are_left_to_their_own_job(app, account):
    wf = make_workflow(account, {"name": "n", "start": "a", "steps": {"a": NOTE}})
    bulk = enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    enroll.create_batch_enrollments(bulk.id, 0)
    assert recovery.reconcile()["stale_active"] == 0  # inside the 60 s grace


def test_lost_timer_resumes_an_overdue_wait(app, account):
    graph = {"name": "w", "start": "w", "steps": {
        "w": {"type": "wait", "config": {"amount": 1, "unit": "hours"}, "next": "a"}, "a": NOTE}}
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    run_jobs(app)
    run = db.session.scalar(select(Enrollment))
    assert run.status == "waiting"
    redis_restart(app)
    assert recovery.reconcile()["overdue_waits"] == 0  # not due yet
    run.wake_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert recovery.reconcile()["overdue_waits"] == 1
    run_jobs(app)
    assert statuses() == ["completed"]


def test_lost_resume_of_a_completed_manual_action(app, account, users):
    graph = {"name": "m", "start": "m", "steps": {
        "m": {"type": "manual_call", "config": {}, "next": "a"}, "a": NOTE}}
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    run_jobs(app)
    action = db.session.scalar(select(ManualAction))
    action.status, action.completed_at = "completed", utcnow()  # completed, but its resume job was lost
    db.session.commit()
    assert recovery.reconcile()["finished_manual_actions"] == 1
    run_jobs(app)
    assert statuses() == ["completed"]
    assert recovery.reconcile()["finished_manual_actions"] == 0


def test_unsent_messages_are_sent_once(app, account):
    contact = make_contact(account)
    old = utcnow() - timedelta(minutes=5)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="hi",
                      status="queued", idempotency_key="k1", created_at=old)
    db.session.add(message)
    db.session.commit()
    assert recovery.reconcile()["unsent_messages"] == 1
    run_jobs(app)
    db.session.refresh(message)
    assert message.status == "sent" and message.provider == "console"
    assert recovery.reconcile()["unsent_messages"] == 0


def test_interrupted_sends_are_marked_unknown_not_resent(app, account, caplog):
    contact = make_contact(account)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="hi",
                      status="sending", idempotency_key="k2", created_at=utcnow() - timedelta(minutes=5))
    db.session.add(message)
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="jobqueue.recovery"):
        assert recovery.reconcile()["interrupted_sends"] == 1
    db.session.refresh(message)
    assert message.status == "unknown" and "interrupted" in message.error
    assert f"messages [{message.id}] were interrupted" in caplog.text


def test_deliver_sends_a_message_once_even_if_asked_twice(app, account, caplog):
    from jobqueue import outbox

    contact = make_contact(account)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="once",
                      status="queued", idempotency_key="k3")
    db.session.add(message)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="flowdesk.sms"):
        outbox.deliver([message.id])
        outbox.deliver([message.id])
    assert caplog.text.count("console SMS to") == 1


def test_reconcile_once_per_interval_across_workers(app):
    assert recovery.reconcile_once_per(30) is not None
    assert recovery.reconcile_once_per(30) is None  # another worker ran one moments ago
