"""The builder's live events: `workflow.watch`, test runs step by step, throttled step stats.

Most tests use Flask-SocketIO's test client (no message queue, see conftest); the last one runs a real
web server and a real worker process that publishes through Redis.
"""

from __future__ import annotations

from typing import Any

import pytest
from rq.registry import ScheduledJobRegistry
from socketio import Client

from builder.extensions import db
from builder.models import Enrollment, User
from jobqueue import enroll
from jobqueue.job_names import PUBLISH_WORKFLOW_STATS as STATS_JOB
from jobqueue.queues import get_queue
from tests.factories import connect, make_contact, make_outsider, make_workflow, run_jobs, run_scheduled_jobs, token_for
from tests.factories import events_by_name as by_name
from tests.live.test_live_server import live_server  # noqa: F401 (fixture)
from tests.workers import start_worker, stop, wait_for

GRAPH = {
    "name": "Tag, wait, note",
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "nurture"}, "next": "pause"},
        "pause": {"type": "wait", "config": {"amount": 1, "unit": "days"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "Hello {{ contact.first_name }}"}, "next": None},
    },
}
QUICK = {
    "name": "Tag and note",
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "nurture"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "Hello {{ contact.first_name }}"}, "next": None},
    },
}




def watch(sio_client, workflow_id: Any) -> dict[str, Any]:
    return sio_client.emit("workflow.watch", {"workflow_id": workflow_id}, callback=True)


def events(sio_client, name: str) -> list[Any]:
    return [e["args"][0] for e in sio_client.get_received() if e["name"] == name]



@pytest.fixture
def other_manager(app) -> User:
    return make_outsider("manager")


# --- who may watch ---------------------------------------------------------------------

def test_admins_and_managers_of_the_account_may_watch(app, account, users, other_manager):
    wf = make_workflow(account, GRAPH)
    for role in ("admin", "manager"):
        assert watch(connect(app, users[role]), wf.id) == {"ok": True}
    refused = watch(connect(app, users["agent"]), wf.id)
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert watch(connect(app, other_manager), wf.id)["error"]["code"] == "not_found"
    manager = connect(app, users["manager"])
    assert watch(manager, 999_999)["error"]["code"] == "not_found"
    assert watch(manager, 2**40)["error"]["code"] == "not_found"
    for bad in ("1", None, True, 1.5):
        assert watch(manager, bad)["error"]["code"] == "bad_request"
    assert manager.emit("workflow.watch", "nonsense", callback=True)["error"]["code"] == "bad_request"


def test_a_user_deactivated_since_connecting_is_dropped(app, account, users):
    wf = make_workflow(account, GRAPH)
    manager = connect(app, users["manager"])
    users["manager"].active = False
    db.session.commit()
    assert watch(manager, wf.id)["ok"] is False
    assert not manager.is_connected()


# --- what watchers hear ------------------------------------------------------------------

def test_a_test_run_streams_its_log_rows_to_watchers_only(app, account, users, as_user):
    wf = make_workflow(account, QUICK, publish=False)
    other = make_workflow(account, {**QUICK, "name": "Another"}, publish=False)
    watcher, elsewhere, idle = (connect(app, users[r]) for r in ("manager", "admin", "admin"))
    assert watch(watcher, wf.id) == {"ok": True}
    assert watch(elsewhere, other.id) == {"ok": True}
    idle.get_received()

    contact = make_contact(account, first_name="Grace", is_test=True)
    enroll.create_request(wf, wf.latest_version(), [contact.id], is_test=True)
    run_jobs(app)

    rows = events(watcher, "workflow.execution")
    assert [(r["step_id"], r["outcome"], r["is_test"]) for r in rows] == [("tag", "ok", True), ("note", "ok", True)]
    assert rows == as_user("manager").get(f"/api/workflows/{wf.id}/executions").json
    assert rows[1]["output"]["body"] == "Hello Grace"
    assert elsewhere.get_received() == [] and idle.get_received() == []


def test_live_runs_publish_the_step_stats(app, account, users, as_user):
    wf = make_workflow(account, GRAPH)
    watcher = connect(app, users["manager"])
    watch(watcher, wf.id)
    enroll.create_request(wf, wf.published_version, [make_contact(account).id, make_contact(account).id],
                          is_test=False)
    run_jobs(app)
    received = by_name(watcher)
    assert "workflow.execution" not in received  # only test runs stream their rows
    assert received["workflow.stats"] == [as_user("manager").get(f"/api/workflows/{wf.id}/stats").json]
    assert received["workflow.stats"][0]["steps"]["pause"] == {"waiting": 2, "passed": 0}


def test_stats_within_the_interval_fold_into_one_trailing_publish(app, account, users, monkeypatch):
    # A long interval, so that the second pass falls within it however slow the machine is.
    monkeypatch.setitem(app.config, "WORKFLOW_STATS_INTERVAL_MS", 3_600_000)
    wf = make_workflow(account, GRAPH)
    watcher = connect(app, users["manager"])
    watch(watcher, wf.id)
    for _ in range(3):
        enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
        run_jobs(app)
    first = events(watcher, "workflow.stats")
    assert [s["steps"]["pause"]["waiting"] for s in first] == [1]  # the 2nd and 3rd were held back
    scheduled = ScheduledJobRegistry(queue=get_queue())
    assert [get_queue().fetch_job(j).func_name for j in scheduled.get_job_ids()].count(STATS_JOB) == 1

    run_scheduled_jobs(app)  # as if the interval had passed
    run_jobs(app)
    trailing = events(watcher, "workflow.stats")
    assert [s["steps"]["pause"]["waiting"] for s in trailing] == [3]


def test_unwatch_leaves_the_room(app, account, users):
    wf = make_workflow(account, QUICK, publish=False)
    watcher = connect(app, users["manager"])
    watch(watcher, wf.id)
    assert watcher.emit("workflow.unwatch", {"workflow_id": wf.id}, callback=True) == {"ok": True}
    enroll.create_request(wf, wf.latest_version(), [make_contact(account).id], is_test=True)
    run_jobs(app)
    assert watcher.get_received() == []


def test_publishing_with_the_message_queue_away_returns_quietly(app, account, users, monkeypatch):
    wf = make_workflow(account, QUICK)
    # Nothing listens on port 1: every emit fails to connect; the run itself is unaffected.
    monkeypatch.setitem(app.config, "SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:1/0")
    enroll.create_request(wf, wf.latest_version(), [make_contact(account).id], is_test=True)
    enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    run_jobs(app)
    assert not db.session().in_transaction()  # the reads are over: on SQLite they would hold the write lock
    assert {e.status for e in db.session.scalars(db.select(Enrollment))} == {"completed"}


# --- a real server and a real worker ---------------------------------------------------------

@pytest.mark.slow
def test_a_worker_streams_a_test_run_to_a_builder_connected_to_a_real_server(
    app, account, users, live_server  # noqa: F811
):
    wf = make_workflow(account, QUICK)
    contact = make_contact(account, first_name="Ada", is_test=True)
    workflow_id, contact_id, token = wf.id, contact.id, token_for(users["manager"])
    db.session.rollback()

    received: dict[str, list[Any]] = {"workflow.execution": [], "workflow.stats": []}
    client = Client(reconnection=False)
    for name, items in received.items():
        client.on(name, items.append)
    client.connect(live_server, auth={"token": token}, wait_timeout=10)
    worker = None
    try:
        assert client.call("workflow.watch", {"workflow_id": workflow_id}, timeout=10) == {"ok": True}
        wf = db.session.get(type(wf), workflow_id)
        enroll.create_request(wf, wf.latest_version(), [contact_id], is_test=True)
        enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
        db.session.rollback()  # hold no transaction (on SQLite: the write lock) while the worker works
        worker = start_worker(app)
        assert wait_for(lambda: len(received["workflow.execution"]) == 2 and received["workflow.stats"],
                        timeout=30), (received, stop(worker))
    finally:
        if worker is not None:
            stop(worker)
        client.disconnect()

    rows = received["workflow.execution"]
    assert [(r["step_id"], r["is_test"], r["contact_id"]) for r in rows] == [
        ("tag", True, contact_id), ("note", True, contact_id)]
    assert received["workflow.stats"][-1]["steps"] == {"tag": {"waiting": 0, "passed": 1},
                                                       "note": {"waiting": 0, "passed": 1}}
