"""Live events end to end: a worker process emits through Redis, a real web server delivers.

Three processes, as in production: the web app (socketio.run, message queue on
the test Redis), a `flask --app app worker`, and this one with python-socketio
clients that log in with API tokens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from socketio import Client

from builder.extensions import db
from builder.schemas.manual_actions import ManualActionSchema
from jobqueue import enroll
from tests.factories import make_contact, make_workflow, token_for
from tests.workers import ROOT, accepts, free_port, start_worker, stop, wait_for, worker_env

pytestmark = pytest.mark.slow

# The server reads its settings from the environment like `make run` does: with no
# SOCKETIO_MESSAGE_QUEUE set, the message queue is REDIS_URL (the test Redis).
SERVER = """
import os
from app import create_app
from builder.extensions import socketio
socketio.run(create_app(), host="127.0.0.1", port=int(os.environ["PORT"]), allow_unsafe_werkzeug=True,
             use_reloader=False, log_output=False)
"""
GRAPH = {
    "name": "Text them",
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi {{ contact.first_name }}"},
               "next": None},
    },
}
EVENTS = ("manual_action.created", "manual_action.updated", "manual_action.deleted", "manual_actions.counts")


@pytest.fixture
def live_server(app) -> Iterator[str]:
    port = free_port()
    fd, log_path = tempfile.mkstemp(prefix="web-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, env=worker_env(app, PORT=str(port)),
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path  # type: ignore[attr-defined]  # for tests.workers.stop
    try:
        assert wait_for(lambda: accepts(port) or proc.poll() is not None, timeout=30) and proc.poll() is None, (
            stop(proc))
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class Listener:
    """A python-socketio client that records every live event it receives."""

    def __init__(self, url: str, token: str):
        self.events: dict[str, list[Any]] = {name: [] for name in EVENTS}
        self.client = Client(reconnection=False)
        for name in EVENTS:
            self.client.on(name, self.events[name].append)
        self.client.connect(url, auth={"token": token}, wait_timeout=10)

    def close(self) -> None:
        self.client.disconnect()


def test_a_worker_process_reaches_connected_clients_through_redis(app, account, users, live_server, as_user):
    contact = make_contact(account, first_name="Grace", last_name="Hopper", assigned_user_id=users["agent"].id)
    wf = make_workflow(account, GRAPH)
    agent_id, tokens = users["agent"].id, {role: token_for(users[role]) for role in ("agent", "manager", "agent2")}
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    db.session.rollback()  # hold no transaction (on SQLite: the write lock) while the other processes work

    listeners = {role: Listener(live_server, token) for role, token in tokens.items()}
    worker = start_worker(app)
    try:
        agent, manager, other = listeners["agent"], listeners["manager"], listeners["agent2"]
        assert wait_for(
            lambda: all(ls.events["manual_action.created"] and ls.events["manual_actions.counts"]
                        for ls in (agent, manager)),
            timeout=30,
        ), (agent.events, manager.events, stop(worker))
    finally:
        output = stop(worker)
        for listener in listeners.values():
            listener.close()

    [row] = agent.events["manual_action.created"]
    assert set(row) == set(ManualActionSchema().fields)
    assert row["message"] == "Hi Grace" and row["contact_name"] == "Grace Hopper" and row["assignee_id"] == agent_id
    assert row == as_user("agent").get(f"/api/manual-actions/{row['id']}").get_json()
    assert agent.events["manual_actions.counts"][-1] == {"pending_total": 1, "pending_calls": 0, "pending_sms": 1}
    assert manager.events["manual_action.created"] == [row]
    counts = manager.events["manual_actions.counts"][-1]
    assert counts["pending_total"] == 1
    assert counts["by_assignee"] == [{"assignee_id": agent_id, "assignee_name": "Agent", "pending": 1}]
    assert all(not events for events in other.events.values())  # another agent's queue did not change
    assert "enroll_batch" in output
