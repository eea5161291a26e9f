"""GET/POST /api/contacts/<id>/messages: one thread per contact, and texting from it."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

import jobqueue.replies  # noqa: F401  (registers what an inbound SMS does, as the worker does)
from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, Message, utcnow
from jobqueue import inbound
from jobqueue.queues import get_queue
from tests.engine.test_actions import enroll, flow
from tests.factories import ApiClient, make_contact, make_workflow, run_jobs
from tests.fake_twilio import connect_account

PHONE = "+14155551000"
_sids = itertools.count(1)


def reply(account, body: str, phone: str = PHONE) -> None:
    event_id, _ = inbound.accept(account.id, {"MessageSid": f"SM{next(_sids):032d}", "From": phone,
                                              "To": "+12025550123", "Body": body})
    inbound.process_event(event_id)


def texted_by_workflow(app, account, contact, text: str = "Hi {{ contact.first_name }}") -> None:
    wf = make_workflow(account, {**flow({"s": {"type": "send_sms", "config": {"message": text}}}),
                                 "name": "Welcome"})
    enroll(app, wf, [contact])


def message_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def thread(api, contact_id: int, **query) -> dict:
    resp = api.get(f"/api/contacts/{contact_id}/messages", query_string=query)
    assert resp.status_code == 200, resp.json
    return resp.json


# --- reading -----------------------------------------------------------------

def test_the_thread_has_every_message_oldest_first_with_who_sent_it(app, account, users, as_user):
    contact = make_contact(account, first_name="Grace", assigned_user_id=users["agent"].id)
    texted_by_workflow(app, account, contact)
    agent = as_user("agent")
    assert agent.post(f"/api/contacts/{contact.id}/messages", json={"body": "Alex here, any questions?"}
                      ).status_code == 201
    reply(account, "Yes, what does it cost?")

    rows = thread(agent, contact.id)["items"]
    assert [(r["direction"], r["body"], r["status"]) for r in rows] == [
        ("outbound", "Hi Grace", "sent"),
        ("outbound", "Alex here, any questions?", "sent"),
        ("inbound", "Yes, what does it cost?", "received"),
    ]
    automated, manual, received = rows
    assert automated["workflow"]["name"] == "Welcome" and automated["sent_by"] is None
    assert manual["sent_by"] == {"id": users["agent"].id, "name": "Agent"} and manual["workflow"] is None
    assert received["sent_by"] is None and received["workflow"] is None
    for row in rows:
        assert row["contact_id"] == contact.id and row["created_at"] and row["error_code"] is None
    assert automated["sent_at"] and manual["sent_at"]


def test_a_manual_sms_from_a_workflow_names_the_person_and_the_workflow(app, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    wf = make_workflow(account, {**flow({"m": {"type": "manual_sms", "config": {"message": "Hello"}}}),
                                 "name": "Follow-up"})
    enroll(app, wf, [contact])
    agent = as_user("agent")
    action = agent.get("/api/manual-actions").json["items"][0]
    assert agent.post(f"/api/manual-actions/{action['id']}/complete", json={"message": "Hello!"}).status_code == 200
    (row,) = thread(agent, contact.id)["items"]
    assert row["sent_by"]["id"] == users["agent"].id and row["workflow"] == {"id": wf.id, "name": "Follow-up"}
    assert row["manual_action_id"] == action["id"]


def test_paging_back_with_before_id(app, account, as_user):
    contact = make_contact(account)
    manager = as_user("manager")
    for n in range(5):
        manager.post(f"/api/contacts/{contact.id}/messages", json={"body": f"text {n}"})
    page = thread(manager, contact.id, limit=2)
    assert [r["body"] for r in page["items"]] == ["text 3", "text 4"] and page["has_more"] is True
    older = thread(manager, contact.id, limit=2, before_id=page["items"][0]["id"])
    assert [r["body"] for r in older["items"]] == ["text 1", "text 2"] and older["has_more"] is True
    oldest = thread(manager, contact.id, limit=2, before_id=older["items"][0]["id"])
    assert [r["body"] for r in oldest["items"]] == ["text 0"] and oldest["has_more"] is False


def test_a_refused_send_shows_failed_with_the_providers_error_code(app, client, account, as_user, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.fail_next(1, 400, 21211, "The 'To' number is not a valid phone number.")
    contact = make_contact(account)
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages", json={"body": "Hello"})
    assert resp.status_code == 201
    assert (resp.json["status"], resp.json["error_code"]) == ("failed", "21211")
    (row,) = thread(as_user("manager"), contact.id)["items"]
    assert (row["status"], row["error_code"]) == ("failed", "21211")


def test_delivery_statuses_from_twilio_show_in_the_thread(app, client, account, as_user, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    contact = make_contact(account)
    manager = as_user("manager")
    assert manager.post(f"/api/contacts/{contact.id}/messages", json={"body": "Hello"}).json["status"] == "accepted"
    (sent,) = fake_twilio.created("Messages")
    assert fake_twilio.message_status(sent.sid, "undelivered", error_code="30003").status == 204
    (row,) = thread(manager, contact.id)["items"]
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")


# --- who may read ---------------------------------------------------------------

def test_agents_read_only_their_own_contacts_threads(app, account, users, as_user):
    mine = make_contact(account, assigned_user_id=users["agent"].id)
    theirs = make_contact(account, phone="+14155551001", assigned_user_id=users["agent2"].id)
    unassigned = make_contact(account, phone="+14155551002")
    agent = as_user("agent")
    assert agent.get(f"/api/contacts/{mine.id}/messages").status_code == 200
    for other in (theirs, unassigned):
        resp = agent.get(f"/api/contacts/{other.id}/messages")
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    assert as_user("manager").get(f"/api/contacts/{theirs.id}/messages").status_code == 200


def test_other_accounts_and_strangers_get_nothing(app, client, account, users):
    contact = make_contact(account)
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    outsider = create_user("boss@other.test", "admin", "correct-horse", "Boss", other)
    assert ApiClient(client, outsider).get(f"/api/contacts/{contact.id}/messages").status_code == 404
    assert ApiClient(client, outsider).post(f"/api/contacts/{contact.id}/messages",
                                            json={"body": "hi"}).status_code == 404
    assert client.get(f"/api/contacts/{contact.id}/messages").status_code == 401
    assert message_count() == 0


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"before_id": "x"}])
def test_bad_paging_is_a_422_naming_the_field(app, account, as_user, query):
    contact = make_contact(account)
    resp = as_user("manager").get(f"/api/contacts/{contact.id}/messages", query_string=query)
    assert resp.status_code == 422 and set(resp.json["error"]["fields"]) == set(query)


# --- texting from the thread -------------------------------------------------------

def test_an_agent_texts_their_contact_and_it_leaves_through_the_outbox(app, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    resp = as_user("agent").post(f"/api/contacts/{contact.id}/messages", json={"body": "  On my way  "})
    assert resp.status_code == 201
    assert resp.json["body"] == "  On my way  " and resp.json["status"] == "sent"  # the console provider
    message = db.session.get(Message, resp.json["id"])
    assert (message.to_number, message.sent_by_id, message.direction) == (PHONE, users["agent"].id, "outbound")


def test_agents_cannot_text_someone_elses_contact(app, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent2"].id)
    assert as_user("agent").post(f"/api/contacts/{contact.id}/messages", json={"body": "hi"}).status_code == 404
    assert message_count() == 0


@pytest.mark.parametrize(("fields", "words"), [
    ({"dnd_sms": True}, "DND for SMS is on"),
    ({"phone": None}, "has no phone number"),
])
def test_dnd_or_no_phone_is_refused_and_nothing_is_queued(app, account, as_user, fields, words):
    contact = make_contact(account, first_name="Grace", **fields)
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages", json={"body": "hi"})
    assert resp.status_code == 422 and words in resp.json["error"]["message"]
    assert resp.json["error"]["message"].startswith("Grace")
    assert message_count() == 0


def test_a_contact_who_texted_stop_is_refused(app, account, as_user):
    contact = make_contact(account)
    reply(account, "STOP")
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages", json={"body": "Come back?"})
    assert resp.status_code == 422
    assert [m.direction for m in db.session.scalars(select(Message))] == ["inbound"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "body"), ({"body": "   "}, "body"), ({"body": "x" * 1601}, "body"), ({"body": 5}, "body"),
    ({"body": "hi", "send_at": "tomorrow"}, "send_at"),
])
def test_bad_bodies_are_a_422_naming_the_field(app, account, as_user, body, field):
    contact = make_contact(account)
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages", json=body)
    assert resp.status_code == 422 and field in resp.json["error"]["fields"]
    assert message_count() == 0


def test_a_scheduled_text_waits_for_its_time(app, account, as_user):
    contact = make_contact(account)
    when = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages",
                                   json={"body": "Reminder", "send_at": when.isoformat() + "Z"})
    assert resp.status_code == 201
    assert resp.json["status"] == "queued" and resp.json["send_at"].startswith(when.isoformat())
    run_jobs(app)
    assert db.session.get(Message, resp.json["id"]).status == "queued"  # not before its time
    assert len(ScheduledJobRegistry(queue=get_queue()).get_job_ids()) == 1


def test_browser_sessions_send_the_csrf_token(app, client, account, users):
    contact = make_contact(account)
    client.post("/login", data={"email": "manager@acme.test", "password": "correct-horse"})
    resp = client.post(f"/api/contacts/{contact.id}/messages", json={"body": "hi"})
    assert resp.status_code == 400 and "CSRF" in resp.json["error"]["message"]
    assert message_count() == 0
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    resp = client.post(f"/api/contacts/{contact.id}/messages", json={"body": "hi"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 201


# --- Let's Start: the thread and the "waiting for a reply" notice --------------------------------

WAITS_FOR_A_REPLY = {
    "ask": {"type": "send_sms", "config": {"message": "Want a quote?"}, "next": "w"},
    "w": {"type": "wait_for_reply", "config": {"timeout_amount": 2, "timeout_unit": "days",
                                               "replied_next": "yes", "timeout_next": None}},
    "yes": {"type": "add_tag", "config": {"tag": "replied"}},
}


def test_lets_start_context_says_which_workflows_wait_for_a_reply(app, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    quote = make_workflow(account, {**flow(WAITS_FOR_A_REPLY), "name": "Quote follow-up"})
    pause = make_workflow(account, {**flow({"d": {"type": "wait", "config": {"amount": 3, "unit": "days"}}}),
                                    "name": "Just a delay"})
    manual = make_workflow(account, {**flow({"m": {"type": "manual_sms", "config": {"message": "Hi"}}}),
                                     "name": "Manual follow-up"})
    before = utcnow()
    for wf in (quote, pause, manual):
        enroll(app, wf, [contact])
    agent = as_user("agent")
    action = agent.get("/api/manual-actions").json["items"][0]

    context = agent.get(f"/api/manual-actions/{action['id']}/context").json
    (waiting,) = context["waiting_for_reply"]
    assert (waiting["workflow_id"], waiting["workflow_name"]) == (quote.id, "Quote follow-up")
    assert waiting["since"] >= before.isoformat(timespec="seconds")
    (asked,) = context["messages"]
    assert asked["body"] == "Want a quote?" and asked["workflow"]["name"] == "Quote follow-up"

    # The product docs' trap: a manual SMS after the automated one, then the reply. Nobody is stuck.
    agent.post(f"/api/manual-actions/{action['id']}/complete", json={"message": "Following up by hand"})
    reply(account, "Yes please")
    run_jobs(app)
    context = agent.get(f"/api/manual-actions/{action['id']}/context").json
    assert context["waiting_for_reply"] == []
    assert [m["body"] for m in context["messages"]] == ["Yes please", "Following up by hand", "Want a quote?"]
