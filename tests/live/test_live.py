"""Live events over Socket.IO, with Flask-SocketIO's test client (no message queue: see conftest).

Who may connect, which rooms they hear, and what the engine and builder.live publish.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db, socketio
from builder.live import action_events, emit
from builder.models import ManualAction, User
from builder.schemas.manual_actions import ManualActionSchema
from jobqueue import enroll
from tests.factories import (
    ApiClient,
    connect,
    drain,
    make_contact,
    make_outsider,
    make_workflow,
    received,
    run_jobs,
    token_for,
)
from tests.factories import events_by_name as by_name

SMS_STEP = {
    "name": "Follow up",
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "name": "Follow-up text", "config": {"message": "Hi {{ contact.first_name }}"},
               "next": None},
    },
}
ROW_FIELDS = set(ManualActionSchema().fields)









@pytest.fixture
def other_manager(app) -> User:
    return make_outsider("manager")


@pytest.fixture
def two_queues(app, account, users) -> dict[str, ManualAction]:
    """A real workflow run up to its manual SMS step, for a contact of each agent."""
    contacts = {
        role: make_contact(account, first_name=role.title(), assigned_user_id=users[role].id)
        for role in ("agent", "agent2")
    }
    wf = make_workflow(account, SMS_STEP)
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts.values()], is_test=False)
    return contacts


def action_of(contact_id: int) -> ManualAction:
    return db.session.scalar(select(ManualAction).where(ManualAction.contact_id == contact_id))


# --- connecting ------------------------------------------------------------

def test_connection_without_credentials_is_refused(app):
    assert not socketio.test_client(app).is_connected()


@pytest.mark.parametrize("token", ["not-a-token", "", 42, None])
def test_connection_with_a_bad_token_is_refused(app, users, token):
    assert not socketio.test_client(app, auth={"token": token}).is_connected()


def test_a_deactivated_users_token_is_refused(app, users):
    token = token_for(users["agent"])
    users["agent"].active = False
    db.session.commit()
    assert not socketio.test_client(app, auth={"token": token}).is_connected()


def test_token_auth_connects_and_sync_answers_the_users_counts(app, users):
    sio_client = connect(app, users["agent"])
    assert sio_client.is_connected()
    assert sio_client.emit("manual_actions.sync", callback=True) == {
        "pending_total": 0, "pending_calls": 0, "pending_sms": 0}


def test_session_auth_connects(app, client, users):
    res = client.post("/login", data={"email": "manager@acme.test", "password": "correct-horse"})
    assert res.status_code == 302
    sio_client = socketio.test_client(app, flask_test_client=client)
    assert sio_client.is_connected()
    assert sio_client.emit("manual_actions.sync", callback=True) == {
        "pending_total": 0, "pending_calls": 0, "pending_sms": 0, "by_assignee": []}


def test_a_bad_token_is_refused_even_with_a_session(app, client, users):
    client.post("/login", data={"email": "manager@acme.test", "password": "correct-horse"})
    assert not socketio.test_client(app, flask_test_client=client, auth={"token": "wrong"}).is_connected()


def test_sync_drops_a_user_deactivated_since_connecting(app, users):
    sio_client = connect(app, users["agent"])
    users["agent"].active = False
    db.session.commit()
    assert not sio_client.emit("manual_actions.sync", callback=True)
    assert not sio_client.is_connected()


# --- who hears what ----------------------------------------------------------

def test_workers_publish_created_actions_to_their_assignee_and_the_managers(
    app, users, other_manager, two_queues, as_user
):
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    outsider = connect(app, other_manager)

    run_jobs(app)

    mine = action_of(two_queues["agent"].id)
    events = {role: by_name(c) for role, c in clients.items()}
    agent_rows = events["agent"]["manual_action.created"]
    assert [row["id"] for row in agent_rows] == [mine.id]
    # The same fields and values as the REST API's row.
    assert set(agent_rows[0]) == ROW_FIELDS
    assert agent_rows[0] == as_user("agent").get(f"/api/manual-actions/{mine.id}").get_json()
    assert agent_rows[0]["message"] == "Hi Agent"
    assert events["agent"]["manual_actions.counts"] == [{"pending_total": 1, "pending_calls": 0, "pending_sms": 1}]
    assert len(events["agent2"]["manual_action.created"]) == 1
    assert events["agent2"]["manual_action.created"][0]["contact_id"] == two_queues["agent2"].id

    for role in ("admin", "manager"):
        assert len(events[role]["manual_action.created"]) == 2
        counts = events[role]["manual_actions.counts"][-1]
        assert counts["pending_total"] == 2 and counts["pending_sms"] == 2
        assert {c["assignee_id"]: c["pending"] for c in counts["by_assignee"]} == {
            users["agent"].id: 1, users["agent2"].id: 1}
    assert outsider.get_received() == []


def test_a_manager_who_is_also_the_assignee_hears_each_event_once(app, account, users):
    contact = make_contact(account, assigned_user_id=users["manager"].id)
    wf = make_workflow(account, SMS_STEP)
    manager = connect(app, users["manager"])
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    events = by_name(manager)
    assert len(events["manual_action.created"]) == 1
    # Managers get their counts from the account room only.
    assert len(events["manual_actions.counts"]) == 1


def test_reassigning_tells_the_previous_assignee_it_left_their_queue(app, users, two_queues):
    run_jobs(app)
    clients = {role: connect(app, users[role]) for role in ("manager", "agent", "agent2")}
    action = action_of(two_queues["agent"].id)
    action.assignee_id = users["agent2"].id
    db.session.commit()

    action_events.publish_action(action, "updated", previous_assignee_id=users["agent"].id)

    agent, agent2, manager = (by_name(clients[r]) for r in ("agent", "agent2", "manager"))
    assert [row["id"] for row in agent["manual_action.deleted"]] == [action.id]
    assert "manual_action.updated" not in agent
    assert agent["manual_actions.counts"] == [{"pending_total": 0, "pending_calls": 0, "pending_sms": 0}]
    assert [row["assignee_id"] for row in agent2["manual_action.updated"]] == [users["agent2"].id]
    assert agent2["manual_actions.counts"][-1]["pending_total"] == 2
    assert "manual_action.deleted" not in manager  # still in the manager's list, with a new assignee
    assert [row["assignee_id"] for row in manager["manual_action.updated"]] == [users["agent2"].id]


def test_a_manager_losing_an_action_is_not_told_it_was_deleted(app, account, users):
    contact = make_contact(account, assigned_user_id=users["manager"].id)
    wf = make_workflow(account, SMS_STEP)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    manager, agent = connect(app, users["manager"]), connect(app, users["agent"])
    action = action_of(contact.id)
    action.assignee_id = users["agent"].id
    db.session.commit()
    action_events.publish_action(action, "updated", previous_assignee_id=users["manager"].id)
    assert set(by_name(manager)) == {"manual_action.updated", "manual_actions.counts"}
    assert set(by_name(agent)) == {"manual_action.updated", "manual_actions.counts"}


def test_deleting_and_completing_publish_the_committed_row_and_new_counts(app, users, two_queues):
    run_jobs(app)
    agent, manager = connect(app, users["agent"]), connect(app, users["manager"])
    action = action_of(two_queues["agent"].id)
    ApiClient(app.test_client(), users["agent"]).delete(f"/api/manual-actions/{action.id}")
    drain(agent, manager)  # whatever the API itself publishes

    action_events.publish_action(action, "deleted")
    rows = received(agent, "manual_action.deleted")
    assert [(row["id"], row["status"]) for row in rows] == [(action.id, "deleted")]
    assert [row["id"] for row in received(manager, "manual_action.deleted")] == [action.id]

    action_events.publish_counts(users["manager"].account_id, [users["agent"].id, users["manager"].id])
    assert received(agent, "manual_actions.counts") == [{"pending_total": 0, "pending_calls": 0, "pending_sms": 0}]
    counts = received(manager, "manual_actions.counts")
    assert len(counts) == 1 and counts[0]["pending_total"] == 1


def test_sync_answers_counts_as_the_user_sees_them(app, users, two_queues):
    run_jobs(app)
    agent, manager = connect(app, users["agent"]), connect(app, users["manager"])
    assert agent.emit("manual_actions.sync", callback=True) == {
        "pending_total": 1, "pending_calls": 0, "pending_sms": 1}
    counts = manager.emit("manual_actions.sync", callback=True)
    assert counts["pending_total"] == 2
    assert sorted(c["assignee_id"] for c in counts["by_assignee"]) == sorted(
        [users["agent"].id, users["agent2"].id])


# --- never in the caller's way ----------------------------------------------

def test_publishing_with_redis_away_returns_quietly(app, users, two_queues, monkeypatch):
    run_jobs(app)
    action = action_of(two_queues["agent"].id)
    account_id, assignee_id = action.account_id, action.assignee_id
    db.session.commit()
    # Nothing listens on port 1: every publish fails to connect.
    monkeypatch.setitem(app.config, "SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:1/0")
    action_events.publish_action(action, "updated")
    action_events.publish_counts(account_id, [assignee_id])
    assert not db.session().in_transaction()  # the read is over: on SQLite it would hold the write lock


def test_unknown_events_are_a_programming_error(app, users, two_queues):
    run_jobs(app)
    with pytest.raises(ValueError):
        action_events.publish_action(action_of(two_queues["agent"].id), "completed")


def test_each_redis_database_gets_its_own_channel():
    # Redis pub/sub ignores database numbers; deployments on databases 3 and 4 must not hear each other.
    assert emit.channel("redis://127.0.0.1:6379/3") == "flowdesk-socketio-db3"
    assert emit.channel("redis://127.0.0.1:6379/4") != emit.channel("redis://127.0.0.1:6379/3")
    assert emit.channel("redis://127.0.0.1:6379") == emit.channel("redis://127.0.0.1:6379/0")
    assert emit.channel(None) == emit.channel("redis://127.0.0.1:6379/0")
