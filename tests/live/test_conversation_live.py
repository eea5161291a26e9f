"""message.created / message.updated over Socket.IO (Flask-SocketIO's test client, no message queue).

Every place a message changes publishes the thread row once, to the pages that
follow the contact (`contact.watch`); only its assignee and the account's admins
and managers may follow it.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

import jobqueue.replies  # noqa: F401  (registers what an inbound SMS does, as the worker does)
from builder.extensions import db
from builder.live import conversation_events
from builder.models import User, utcnow
from jobqueue import inbound
from tests.engine.test_actions import enroll, flow
from tests.factories import (
    ApiClient,
    connect,
    drain,
    make_contact,
    make_outsider,
    make_workflow,
    run_jobs,
    run_scheduled_jobs,
)
from tests.fake_twilio import connect_account

PHONE = "+14155551000"
_sids = itertools.count(1)


def reply(account, body: str, phone: str = PHONE) -> None:
    event_id, _ = inbound.accept(account.id, {"MessageSid": f"SM{next(_sids):032d}", "From": phone,
                                              "To": "+12025550123", "Body": body})
    inbound.process_event(event_id)


def watch(listeners: dict, contact) -> dict[str, bool]:
    """Every listener asks to follow the contact's thread, as its page does; returns who was let in."""
    acks = {name: client.emit("contact.watch", {"contact_id": contact.id}, callback=True)
            for name, client in listeners.items()}
    return {name: ack["ok"] for name, ack in acks.items()}


def messages(sio_client) -> list[tuple[str, str, str]]:
    """(event, body, status) of every conversation event the client got, in order."""
    return [(event["name"], event["args"][0]["body"], event["args"][0]["status"])
            for event in sio_client.get_received() if event["name"].startswith("message.")]


@pytest.fixture
def outsider(app) -> User:
    return make_outsider("admin")


@pytest.fixture
def listeners(app, users, outsider) -> dict:
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    clients["outsider"] = connect(app, outsider)
    return clients


def test_an_inbound_reply_reaches_the_assignee_and_managers_only(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    reply(account, "Is it still available?")

    for role in ("agent", "manager", "admin"):
        assert messages(listeners[role]) == [("message.created", "Is it still available?", "received")]
    assert listeners["agent2"].get_received() == []
    assert listeners["outsider"].get_received() == []
    # The payload is the row the REST API lists.
    (row,) = ApiClient(app.test_client(), users["agent"]).get(f"/api/contacts/{contact.id}/messages").json["items"]
    drain(listeners["agent"])
    reply(account, "Hello?")
    (event,) = listeners["agent"].get_received()
    assert set(event["args"][0]) == set(row) and event["args"][0]["contact_id"] == contact.id


def test_an_unassigned_contacts_messages_go_to_managers_only(app, account, users, listeners):
    contact = make_contact(account)
    watch(listeners, contact)
    drain(*listeners.values())
    reply(account, "Hi")
    assert len(listeners["manager"].get_received()) == 1
    assert listeners["agent"].get_received() == [] and listeners["agent2"].get_received() == []


def test_a_workflow_sms_is_announced_queued_then_sent(app, account, users, listeners):
    contact = make_contact(account, first_name="Grace", assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}}}))
    drain(*listeners.values())
    enroll(app, wf, [contact])
    events = listeners["agent"].get_received()
    assert [(e["name"], e["args"][0]["status"]) for e in events] == [
        ("message.created", "queued"), ("message.updated", "sent")]
    assert events[0]["args"][0]["workflow"] == {"id": wf.id, "name": "Test flow"}
    assert [e for e, _, _ in messages(listeners["manager"])] == ["message.created", "message.updated"]
    assert listeners["agent2"].get_received() == []


def test_a_manual_sms_completion_is_announced_once_per_change(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    wf = make_workflow(account, flow({"m": {"type": "manual_sms", "config": {"message": "Hello"}}}))
    enroll(app, wf, [contact])
    agent_api = ApiClient(app.test_client(), users["agent"])
    action = agent_api.get("/api/manual-actions").json["items"][0]
    drain(*listeners.values())
    agent_api.post(f"/api/manual-actions/{action['id']}/complete", json={"message": "Hello there"})
    assert messages(listeners["agent"]) == [("message.created", "Hello there", "queued"),
                                            ("message.updated", "Hello there", "sent")]
    assert listeners["agent2"].get_received() == []


def test_texting_from_the_thread_is_announced(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent2"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    ApiClient(app.test_client(), users["manager"]).post(f"/api/contacts/{contact.id}/messages", json={"body": "Hey"})
    expected = [("message.created", "Hey", "queued"), ("message.updated", "Hey", "sent")]
    assert messages(listeners["agent2"]) == expected and messages(listeners["manager"]) == expected
    assert listeners["agent"].get_received() == [] and listeners["outsider"].get_received() == []


def test_help_is_answered_and_both_messages_are_announced(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    reply(account, "HELP")
    events = messages(listeners["agent"])
    assert events[0] == ("message.created", "HELP", "received")
    assert [(e, s) for e, _, s in events[1:]] == [("message.created", "queued"), ("message.updated", "sent")]
    assert "reply STOP to unsubscribe" in events[1][1]


def test_a_scheduled_text_refused_after_an_opt_out_is_announced_as_failed(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    when = (utcnow() + timedelta(hours=1)).isoformat() + "Z"
    ApiClient(app.test_client(), users["agent"]).post(f"/api/contacts/{contact.id}/messages",
                                                      json={"body": "See you soon", "send_at": when})
    reply(account, "STOP")
    drain(*listeners.values())
    db.session.execute(db.text("UPDATE messages SET send_at = :now WHERE direction = 'outbound'"),
                       {"now": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    (event,) = listeners["agent"].get_received()
    assert event["name"] == "message.updated"
    assert (event["args"][0]["status"], event["args"][0]["error_code"]) == ("failed", "dnd")


def test_twilio_status_callbacks_are_announced_once_each(app, client, account, users, listeners, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    ApiClient(app.test_client(), users["agent"]).post(f"/api/contacts/{contact.id}/messages", json={"body": "Hi"})
    (sent,) = fake_twilio.created("Messages")
    drain(*listeners.values())
    fake_twilio.message_status(sent.sid, "sent")
    fake_twilio.message_status(sent.sid, "delivered")
    fake_twilio.message_status(sent.sid, "sent")  # late: changes nothing, so says nothing
    fake_twilio.message_status(sent.sid, "delivered")  # again: the same
    assert [(e, s) for e, _, s in messages(listeners["agent"])] == [
        ("message.updated", "sent"), ("message.updated", "delivered")]
    assert listeners["agent2"].get_received() == []


def test_a_twilio_retry_is_announced_as_queued_again(app, account, users, listeners, fake_twilio):
    connect_account(app, fake_twilio, account.id, retry_delays=(60,))
    fake_twilio.fail_next(1, 503)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    ApiClient(app.test_client(), users["agent"]).post(f"/api/contacts/{contact.id}/messages", json={"body": "Hi"})
    events = listeners["agent"].get_received()
    assert [(e["name"], e["args"][0]["status"]) for e in events] == [
        ("message.created", "queued"), ("message.updated", "queued")]
    assert events[1]["args"][0]["error_code"] == "20503"


def test_unknown_events_are_a_programming_error(app):
    with pytest.raises(ValueError):
        conversation_events.publish([1], "deleted")


def test_publishing_with_redis_away_returns_quietly(app, account, monkeypatch):
    make_contact(account)
    reply(account, "Hi")
    db.session.commit()
    monkeypatch.setitem(app.config, "SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:1/0")
    conversation_events.publish([1], "updated")
    assert not db.session().in_transaction()  # the read is over: on SQLite it would hold the write lock


def test_only_those_who_may_see_the_contact_can_follow_it(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    assert watch(listeners, contact) == {"admin": True, "manager": True, "agent": True, "agent2": False,
                                         "outsider": False}
    bad = listeners["agent"].emit("contact.watch", {"contact_id": "1"}, callback=True)
    assert bad["ok"] is False and bad["error"]["code"] == "bad_request"


def test_a_page_that_stops_following_hears_nothing_more(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    assert listeners["manager"].emit("contact.unwatch", {"contact_id": contact.id}, callback=True) == {"ok": True}
    drain(*listeners.values())
    reply(account, "Anyone there?")
    assert listeners["manager"].get_received() == []
    assert messages(listeners["agent"]) == [("message.created", "Anyone there?", "received")]


def test_other_contacts_threads_are_not_sent_to_a_page(app, account, users, listeners):
    followed = make_contact(account, assigned_user_id=users["agent"].id)
    make_contact(account, phone="+14155552000", assigned_user_id=users["agent"].id)
    watch(listeners, followed)
    drain(*listeners.values())
    reply(account, "From the other one", phone="+14155552000")
    assert listeners["agent"].get_received() == [] and listeners["manager"].get_received() == []


def contact_events(sio_client) -> list[dict]:
    return [event["args"][0] for event in sio_client.get_received() if event["name"] == "contact.updated"]


def test_an_opt_out_reply_tells_open_pages_that_dnd_is_on(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    reply(account, "STOP")
    for role in ("agent", "manager", "admin"):
        (event,) = contact_events(listeners[role])
        assert (event["id"], event["dnd_sms"], event["dnd_call"]) == (contact.id, True, False)
    assert listeners["agent2"].get_received() == [] and listeners["outsider"].get_received() == []
    reply(account, "START")
    assert [e["dnd_sms"] for e in contact_events(listeners["agent"])] == [False]
    reply(account, "Thanks!")  # not a keyword: the contact did not change
    assert contact_events(listeners["agent"]) == []


def test_an_edit_is_announced_with_the_row_the_api_returns(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    watch(listeners, contact)
    drain(*listeners.values())
    row = ApiClient(app.test_client(), users["manager"]).patch(f"/api/contacts/{contact.id}",
                                                               json={"dnd_call": True, "tags": ["vip"]}).json
    (event,) = contact_events(listeners["agent"])
    assert event == row and event["dnd_call"] is True and event["tags"] == ["vip"]
    assert listeners["agent2"].get_received() == []


def test_a_reassignment_is_not_heard_by_the_former_assignee(app, account, users, listeners):
    # Who hears is read in the edit's own transaction: the former owner's open page hears nothing more.
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    assert watch(listeners, contact)["agent"]
    drain(*listeners.values())
    row = ApiClient(app.test_client(), users["manager"]).patch(
        f"/api/contacts/{contact.id}", json={"assigned_user_id": users["agent2"].id}).json
    assert contact_events(listeners["manager"]) == [row] and row["assigned_user_id"] == users["agent2"].id
    assert contact_events(listeners["agent"]) == []


def test_a_send_the_reconciler_marks_unknown_is_announced(app, account, users, listeners):
    from builder.models import Message
    from jobqueue import recovery

    contact = make_contact(account, assigned_user_id=users["agent"].id)
    message = Message(account_id=account.id, contact_id=contact.id, to_number=contact.phone, body="hi",
                      status="sending", idempotency_key="interrupted", created_at=utcnow() - timedelta(minutes=5))
    db.session.add(message)
    db.session.commit()
    watch(listeners, contact)
    drain(*listeners.values())
    assert recovery.reconcile()["interrupted_sends"] == 1
    assert messages(listeners["agent"]) == [("message.updated", "hi", "unknown")]
    assert listeners["agent2"].get_received() == []
