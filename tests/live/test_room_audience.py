"""Who hears a contact's and a queue's live events is decided when they are published.

A page that follows a contact stays subscribed until it leaves, but each event goes
only to the people who may see the contact at that moment: after a reassignment
(from the API or from a workflow's Assign User step run by a worker), a role change
or a deactivation, the former viewer's open page hears nothing more. Let's Start's
context follows the same rule.
"""

from __future__ import annotations

import pytest
from socketio import Client

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, User
from jobqueue import enroll as bulk_enroll
from tests.engine.test_actions import enroll, flow
from tests.factories import ApiClient, connect, drain, make_contact, make_workflow, received, run_jobs, token_for
from tests.live.test_conversation_live import messages, reply, watch
from tests.live.test_live_server import live_server  # noqa: F401
from tests.workers import start_worker, stop, wait_for


@pytest.fixture
def listeners(app, users) -> dict:
    """Socket.IO clients of the account's four people and of another account's admin."""
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    clients["outsider"] = connect(app, create_user("boss@other.test", "admin", "correct-horse", "Boss", other))
    return clients


def conversation(sio_client) -> list[str]:
    return [event["name"] for event in sio_client.get_received()
            if event["name"].startswith(("message.", "contact."))]


def test_reassigning_through_the_api_stops_the_former_assignees_page(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    assert watch(listeners, contact)["agent"] is True
    manager_api = ApiClient(app.test_client(), users["manager"])
    response = manager_api.patch(f"/api/contacts/{contact.id}", json={"assigned_user_id": users["agent2"].id})
    assert response.status_code == 200
    # The new assignee opens the contact's page; the former one's page is still open and subscribed.
    assert listeners["agent2"].emit("contact.watch", {"contact_id": contact.id}, callback=True) == {"ok": True}
    drain(*listeners.values())

    reply(account, "Still there?")
    manager_api.patch(f"/api/contacts/{contact.id}", json={"custom_fields": {"budget": "secret"}})
    manager_api.post(f"/api/contacts/{contact.id}/messages", json={"body": "Yes"})

    assert listeners["agent"].get_received() == []
    expected = ["message.created", "contact.updated", "message.created", "message.updated"]
    for role in ("agent2", "manager", "admin"):
        assert conversation(listeners[role]) == expected, role
    assert listeners["outsider"].get_received() == []
    # And the former assignee may not follow it again.
    again = listeners["agent"].emit("contact.watch", {"contact_id": contact.id}, callback=True)
    assert again["ok"] is False and again["error"]["code"] == "not_found"


def test_an_assign_user_step_run_by_the_worker_moves_the_audience(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    listeners["agent2"].emit("contact.watch", {"contact_id": contact.id}, callback=True)  # refused: not theirs yet
    drain(*listeners.values())
    wf = make_workflow(account, flow({
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent2"].id]}, "next": "s"},
        "s": {"type": "send_sms", "config": {"message": "Hi"}},
    }, start="a"))
    enroll(app, wf, [contact])  # the worker's code path: RQ jobs run by a SimpleWorker
    assert listeners["agent"].get_received() == []
    assert [e for e, _, _ in messages(listeners["manager"])] == ["message.created", "message.updated"]
    # The new assignee's page, opened now, hears what comes next.
    assert listeners["agent2"].emit("contact.watch", {"contact_id": contact.id}, callback=True) == {"ok": True}
    drain(*listeners.values())
    reply(account, "Thanks")
    assert messages(listeners["agent2"]) == [("message.created", "Thanks", "received")]
    assert listeners["agent"].get_received() == []


def test_a_deactivated_or_demoted_manager_hears_nothing_more(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    db.session.get(User, users["admin"].id).active = False
    db.session.get(User, users["manager"].id).role = "agent"
    db.session.commit()
    drain(*listeners.values())
    reply(account, "Hello")
    ApiClient(app.test_client(), users["agent"]).patch(f"/api/contacts/{contact.id}", json={"dnd_call": True})
    assert conversation(listeners["agent"]) == ["message.created", "contact.updated"]
    assert listeners["admin"].get_received() == [] and listeners["manager"].get_received() == []


def test_queue_events_follow_roles_as_they_are_now(app, account, users):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    db.session.get(User, users["admin"].id).active = False
    db.session.get(User, users["manager"].id).role = "agent"
    db.session.get(User, users["agent2"].id).role = "manager"
    db.session.commit()
    drain(*clients.values())
    wf = make_workflow(account, flow({"m": {"type": "manual_sms", "config": {"message": "Hello"}}}))
    enroll(app, wf, [contact])
    assert clients["admin"].get_received() == []
    assert clients["manager"].get_received() == []  # an agent now, and the action is not theirs
    promoted = clients["agent2"].get_received()
    assert [e["name"] for e in promoted if e["name"] == "manual_action.created"] == ["manual_action.created"]
    assert "by_assignee" in [e for e in promoted if e["name"] == "manual_actions.counts"][-1]["args"][0]
    assert len(received(clients["agent"], "manual_action.created")) == 1


def test_an_open_builder_stops_hearing_a_demoted_or_deactivated_user(app, account, users):
    from tests.live.test_workflow_live import QUICK

    wf = make_workflow(account, QUICK, publish=False)
    clients = {role: connect(app, users[role]) for role in ("admin", "manager")}
    for client in clients.values():
        assert client.emit("workflow.watch", {"workflow_id": wf.id}, callback=True) == {"ok": True}
    admin2 = create_user("admin2@acme.test", "admin", "correct-horse", "Second Admin", account)
    watcher = connect(app, admin2)
    assert watcher.emit("workflow.watch", {"workflow_id": wf.id}, callback=True) == {"ok": True}
    db.session.get(User, users["admin"].id).active = False
    db.session.get(User, users["manager"].id).role = "agent"
    db.session.commit()
    drain(watcher, *clients.values())
    bulk_enroll.create_request(wf, wf.latest_version(), [make_contact(account, is_test=True).id], is_test=True)
    run_jobs(app)
    assert [e["step_id"] for e in received(watcher, "workflow.execution")] == ["tag", "note"]
    assert clients["admin"].get_received() == [] and clients["manager"].get_received() == []


def test_context_is_refused_once_the_contact_moved_to_another_agent(app, account, users):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    wf = make_workflow(account, flow({"m": {"type": "manual_sms", "config": {"message": "Hello"}}}))
    enroll(app, wf, [contact])
    agent_api = ApiClient(app.test_client(), users["agent"])
    (action,) = agent_api.get("/api/manual-actions").json["items"]
    assert agent_api.get(f"/api/manual-actions/{action['id']}/context").status_code == 200
    ApiClient(app.test_client(), users["manager"]).patch(f"/api/contacts/{contact.id}",
                                                         json={"assigned_user_id": users["agent2"].id})
    refused = agent_api.get(f"/api/manual-actions/{action['id']}/context")
    assert refused.status_code == 404 and "Ada" not in refused.get_data(as_text=True)
    manager = ApiClient(app.test_client(), users["manager"]).get(f"/api/manual-actions/{action['id']}/context")
    assert manager.status_code == 200 and manager.json["contact"]["id"] == contact.id


# --- through Redis: a worker process reassigns and texts, a real web server delivers ---------------

class Watcher:
    """A python-socketio client following one contact's thread."""

    def __init__(self, url: str, token: str, contact_id: int):
        self.events: list[tuple[str, dict]] = []
        self.client = Client(reconnection=False)
        for name in ("message.created", "message.updated", "contact.updated"):
            self.client.on(name, lambda data, name=name: self.events.append((name, data)))
        self.client.connect(url, auth={"token": token}, wait_timeout=10)
        self.ack = self.client.call("contact.watch", {"contact_id": contact_id}, timeout=10)


@pytest.mark.slow
def test_a_worker_process_reassigning_through_redis_cuts_the_former_assignee_off(
        app, account, users, live_server, monkeypatch):  # noqa: F811
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    wf = make_workflow(account, flow({
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent2"].id]}, "next": "s"},
        "s": {"type": "send_sms", "config": {"message": "Hi"}},
    }, start="a"))
    tokens = {role: token_for(users[role]) for role in ("agent", "agent2", "manager")}
    contact_id = contact.id
    db.session.rollback()  # hold no transaction (on SQLite: the write lock) while the other processes work
    watchers = {role: Watcher(live_server, token, contact_id) for role, token in tokens.items()}
    assert watchers["agent"].ack == {"ok": True} and watchers["manager"].ack == {"ok": True}
    bulk_enroll.create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.rollback()
    worker = start_worker(app)
    try:
        manager = watchers["manager"]
        assert wait_for(lambda: [e for e, _ in manager.events] == ["message.created", "message.updated"],
                        timeout=30), manager.events
        # The new assignee's page opens now and hears the next message, published by the worker too.
        late = Watcher(live_server, tokens["agent2"], contact_id)
        assert late.ack == {"ok": True}
        # This process publishes through Redis too, as a web process does.
        monkeypatch.setitem(app.config, "SOCKETIO_MESSAGE_QUEUE", app.config["REDIS_URL"])
        ApiClient(app.test_client(), users["manager"]).post(f"/api/contacts/{contact_id}/messages",
                                                            json={"body": "Again"})
        db.session.rollback()
        assert wait_for(lambda: len(late.events) == 2 and len(manager.events) == 4, timeout=30), (
            late.events, manager.events)
    finally:
        output = stop(worker)
        for watcher in watchers.values():
            watcher.client.disconnect()
    assert watchers["agent"].events == [] and watchers["agent2"].events == []  # agent2 was refused at first
    assert [row["body"] for _, row in late.events] == ["Again", "Again"]
    assert "enroll_batch" in output  # the worker process did the reassigning
