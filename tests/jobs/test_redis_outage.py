"""Redis goes away: committed work is never hidden behind a 500, and workers live through it.

Each test runs its own redis-server (tests.workers.PrivateRedis) and kills only that one;
the shared test Redis is never touched.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import ContactTag, Enrollment, ExecutionLog, ManualAction, Message, Note
from builder.web.workflow_hooks import hook_secret
from jobqueue.connection import get_redis
from tests.factories import bulk_enroll_new_contacts, make_contact, make_workflow, run_jobs
from tests.workers import PrivateRedis, output, start_worker, stop, wait_for

GRAPH = {
    "name": "Four effects",
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "bulk"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "note for {{ contact.first_name }}"}, "next": "sms"},
        "sms": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "field"},
        "field": {"type": "update_contact_field", "config": {"field": "custom.stage", "value": "done"}, "next": None},
    },
}
TAGGED = {
    "name": "On tag",
    "trigger": {"type": "contact_tag_added", "config": {"tag": "vip"}},
    "start": "note",
    "steps": {"note": {"type": "add_note", "config": {"body": "VIP {{ contact.first_name }}"}, "next": None}},
}
FAST_RECOVERY = {"RECOVERY_GRACE_SECONDS": "1", "RECOVERY_INTERVAL_SECONDS": "1"}


@pytest.fixture
def private_redis(app) -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    app.config["REDIS_URL"] = redis.url  # this app, and workers started from it, use it
    try:
        yield redis
    finally:
        redis.kill()


def scalar(query):
    value = db.session.scalar(query)
    db.session.rollback()  # on SQLite a transaction holds the write lock: end it at once
    return value


def count(model) -> int:
    return scalar(select(func.count()).select_from(model))


def completed() -> int:
    return scalar(select(func.count()).where(Enrollment.status == "completed"))


# --- web requests -----------------------------------------------------------------------------

def test_enroll_while_redis_is_down_answers_202_and_runs_once_redis_is_back(
        app, account, as_user, private_redis, caplog):
    wf = make_workflow(account, GRAPH)
    ids = [make_contact(account, first_name=f"D{i}").id for i in range(5)]
    private_redis.kill()

    with caplog.at_level(logging.WARNING, logger="jobqueue.effects"):
        res = as_user("manager").post(f"/api/workflows/{wf.id}/enroll", json={"contact_ids": ids})
    assert res.status_code == 202, res.get_data(as_text=True)
    bulk_id = res.get_json()["id"]
    assert f"deferred to the reconciler: the 1 batch job(s) of enroll request {bulk_id}" in caplog.text

    private_redis.start()  # back, and empty: the batch job was never stored anywhere
    time.sleep(1.2)  # past the workers' recovery grace
    worker = start_worker(app, **FAST_RECOVERY)
    try:
        assert wait_for(lambda: completed() == 5, timeout=60), output(worker)
    finally:
        text = stop(worker)
    assert "reconciler re-enqueued lost work" in text
    assert count(Note) == 5 and count(Message) == 5


def test_a_tag_that_fires_a_trigger_while_redis_is_down_answers_200_and_runs_later(
        app, account, as_user, private_redis):
    wf = make_workflow(account, TAGGED)
    contact = make_contact(account, first_name="Vic")
    private_redis.kill()

    res = as_user("manager").patch(f"/api/contacts/{contact.id}", json={"tags": ["vip"]})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["tags"] == ["vip"]
    run = db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == wf.id)).one()
    db.session.rollback()

    private_redis.start()
    time.sleep(1.2)
    worker = start_worker(app, **FAST_RECOVERY)
    try:
        assert wait_for(lambda: scalar(select(Enrollment.status).where(Enrollment.id == run.id)) == "completed",
                        timeout=60), output(worker)
    finally:
        stop(worker)
    assert [n.body for n in db.session.scalars(select(Note))] == ["VIP Vic"]


def test_an_inbound_webhook_while_redis_is_down_answers_202_and_keeps_the_run(app, account, client, private_redis):
    graph = {**TAGGED, "trigger": {"type": "inbound_webhook", "config": {"field_map": {"mail": "email"}}}}
    wf = make_workflow(account, graph)
    private_redis.kill()
    res = client.post(f"/hooks/workflows/{wf.id}/{hook_secret(wf.id)}", json={"mail": "kim@example.test"})
    assert res.status_code == 202, res.get_data(as_text=True)
    [run_id] = res.get_json()["enrollment_ids"]
    assert scalar(select(Enrollment.status).where(Enrollment.id == run_id)) == "active"  # for the reconciler


def test_completing_a_manual_action_while_redis_is_down_answers_200(app, account, users, as_user, private_redis,
                                                                    caplog):
    from jobqueue import enroll

    graph = {"name": "Text then note", "start": "sms", "steps": {
        "sms": {"type": "manual_sms", "config": {"message": "Hi"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "texted"}, "next": None}}}
    wf = make_workflow(account, graph)
    contact = make_contact(account, first_name="Pat", assigned_user_id=users["agent"].id)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)  # on the private Redis, while it is up: the run parks on its manual action
    action = db.session.scalars(select(ManualAction)).one()
    db.session.rollback()
    private_redis.kill()

    with caplog.at_level(logging.WARNING):
        res = as_user("agent").post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi Pat"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["status"] == "completed"
    assert "deferred to the reconciler: resume of enrollment" in caplog.text
    # The text went out without Redis; the parked run waits for the reconciler.
    assert scalar(select(Message.status).where(Message.manual_action_id == action.id)) == "sent"
    assert scalar(select(Enrollment.status)) == "parked"


def test_a_request_that_needs_redis_before_committing_answers_503(app, account, as_user, private_redis):
    # A request whose work needs Redis before it can commit, as a rate limit or a round-robin counter does.
    @app.get("/api/needs-redis")
    def needs_redis():
        get_redis().incr("flowdesk:test:counter")
        return {"ok": True}

    @app.get("/needs-redis")
    def page_needs_redis():
        get_redis().incr("flowdesk:test:counter")
        return "ok"

    private_redis.kill()
    res = app.test_client().get("/api/needs-redis")
    assert res.status_code == 503
    assert res.get_json()["error"]["code"] == "service_unavailable"
    assert res.headers["Retry-After"]
    page = app.test_client().get("/needs-redis")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "unavailable" in page.get_data(as_text=True)


# --- worker processes ---------------------------------------------------------------------------

N = 600


@pytest.mark.slow
def test_a_worker_lives_through_a_redis_restart_mid_bulk_enrollment(app, account, private_redis):
    """Kill Redis while the worker runs a bulk enrollment, start it again empty on the same port:
    the same worker process finishes every run, and no step's effect happens twice."""

    bulk_enroll_new_contacts(account, make_workflow(account, GRAPH), N)

    worker = start_worker(app, **FAST_RECOVERY)
    try:
        assert wait_for(lambda: completed() >= 60, timeout=60, interval=0.02), output(worker)
        private_redis.kill()
        at_kill = completed()
        time.sleep(3)  # down long enough for the worker to hit it mid-job and while idle
        assert worker.poll() is None, output(worker)
        private_redis.start()

        def settled() -> bool:
            unsent = scalar(select(func.count()).where(Message.status.in_(["queued", "sending"])))
            return completed() == N and unsent == 0

        finished = wait_for(settled, timeout=180, interval=0.2)
        alive = worker.poll() is None
        # Registered again in the Redis that came back empty (rq's set of live workers).
        registered = Redis.from_url(private_redis.url).smembers("rq:workers")
    finally:
        text = stop(worker)
    assert at_kill < N, "Redis should die mid-way"
    assert finished, f"{completed()} of {N} completed\n{text[-4000:]}"
    assert alive, text[-4000:]  # the same process did it all: nothing started a new worker
    assert "lost Redis" in text and "the worker starts again" in text
    assert "found an unhandled exception, quitting" not in text
    assert "reconciler re-enqueued lost work" in text

    # Every effect exactly once per contact.
    assert count(Note) == N and count(ContactTag) == N and count(Message) == N
    assert scalar(select(func.count(func.distinct(Message.contact_id)))) == N
    assert scalar(select(func.count(func.distinct(Note.contact_id)))) == N
    assert count(ExecutionLog) == 4 * N
    assert scalar(select(func.count()).where(ExecutionLog.outcome != "ok")) == 0
    # A send cut short is marked unknown rather than sent twice; none should be cut short here.
    assert scalar(select(func.count()).where(Message.status.not_in(["sent", "unknown"]))) == 0
    assert registered, "the worker did not register again"


def test_a_worker_started_while_redis_is_down_waits_for_it(app, account, private_redis):
    wf = make_workflow(account, GRAPH)
    contact = make_contact(account, first_name="Early")
    private_redis.kill()
    from jobqueue import enroll

    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)  # deferred: Redis is down
    worker = start_worker(app, **FAST_RECOVERY)
    try:
        assert wait_for(lambda: "Redis does not answer" in output(worker), timeout=30), output(worker)
        assert worker.poll() is None
        private_redis.start()
        assert wait_for(lambda: completed() == 1, timeout=60), output(worker)
    finally:
        stop(worker)


def test_a_worker_waiting_for_redis_stops_on_sigterm(app, private_redis):
    private_redis.kill()
    worker = start_worker(app)
    try:
        assert wait_for(lambda: "Redis does not answer" in output(worker), timeout=30), output(worker)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
    finally:
        text = stop(worker)
    assert code == 0, text
    assert "worker stopped while waiting for Redis" in text
