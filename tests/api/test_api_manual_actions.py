"""Manual actions API and dashboard: lists, roles, completing (SMS and call), deleting, resuming runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, Contact, Enrollment, ExecutionLog, ManualAction, Message, Note, utcnow
from jobqueue import enroll
from tests.factories import ApiClient, make_contact, make_workflow, run_jobs

SMS_THEN_NOTE = {
    "name": "Follow up",
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "name": "Follow-up text",
               "config": {"message": "Hi {{ contact.first_name }}"}, "next": "s2"},
        "s2": {"type": "add_note", "config": {"body": "texted"}, "next": None},
    },
}
CALL_THEN_NOTE = {
    "name": "Ring them",
    "start": "c1",
    "steps": {
        "c1": {"type": "manual_call", "name": "Intro call", "config": {}, "next": "c2"},
        "c2": {"type": "add_note", "config": {"body": "called"}, "next": None},
    },
}


def parked_action(app, account, contact: Contact, graph: dict = SMS_THEN_NOTE) -> ManualAction:
    """Run a real workflow up to its manual step; return the action its run is parked on."""
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return db.session.scalar(select(ManualAction).where(ManualAction.workflow_id == wf.id))


def run_of(action: ManualAction) -> Enrollment:
    db.session.expire_all()
    return db.session.get(Enrollment, action.enrollment_id)


def messages() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def add_action(account, contact, *, kind="sms", assignee=None, workflow=None, status="queued", minutes_ago=0):
    """A manual action row as the engine would leave it, for list and count tests."""
    action = ManualAction(
        account_id=account.id, type=kind, status=status, name=f"{kind} task", contact_id=contact.id,
        assignee_id=assignee.id if assignee else None, workflow_id=workflow.id if workflow else None,
        parks_enrollment=False, message="Hello" if kind == "sms" else None,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        completed_at=utcnow() if status == "completed" else None,
    )
    db.session.add(action)
    db.session.commit()
    return action


@pytest.fixture
def agent_contact(account, users) -> Contact:
    return make_contact(account, first_name="Grace", last_name="Hopper", assigned_user_id=users["agent"].id)


# --- list ----------------------------------------------------------------

def test_list_rows_newest_first_with_names(as_user, account, users, agent_contact):
    wf = make_workflow(account, SMS_THEN_NOTE)
    old = add_action(account, agent_contact, assignee=users["agent"], workflow=wf, minutes_ago=5)
    new = add_action(account, agent_contact, kind="call", assignee=users["agent"], minutes_ago=1)
    res = as_user("manager").get("/api/manual-actions")
    assert res.status_code == 200
    body = res.json
    assert body["total"] == 2 and [r["id"] for r in body["items"]] == [new.id, old.id]
    row = body["items"][1]
    assert row == {
        "id": old.id, "type": "sms", "status": "queued", "name": "sms task",
        "contact_id": agent_contact.id, "contact_name": "Grace Hopper",
        "workflow_id": wf.id, "workflow_name": "Follow up",
        "assignee_id": users["agent"].id, "assignee_name": "Agent",
        "message": "Hello", "outcome": None, "notes": None, "is_test": False,
        "created_at": row["created_at"], "completed_at": None, "claimed_by_id": None, "claim_expires_at": None,
    }
    assert body["items"][0]["workflow_name"] is None


def test_list_filters_and_pagination(as_user, account, users):
    a, b = make_contact(account, first_name="A"), make_contact(account, first_name="B")
    wf1 = make_workflow(account, SMS_THEN_NOTE)
    wf2 = make_workflow(account, CALL_THEN_NOTE)
    rows = [
        add_action(account, a, assignee=users["agent"], workflow=wf1, minutes_ago=6),
        add_action(account, a, kind="call", assignee=users["agent2"], workflow=wf2, minutes_ago=5),
        add_action(account, b, assignee=users["agent"], workflow=wf2, status="completed", minutes_ago=4),
        add_action(account, b, kind="call", assignee=users["agent"], workflow=wf1, minutes_ago=3),
        add_action(account, b, assignee=users["agent2"], workflow=wf1, status="deleted", minutes_ago=2),
    ]
    rows[4].deleted_at = utcnow()
    db.session.commit()
    admin = as_user("admin")

    def ids(query: str) -> list[int]:
        body = admin.get(f"/api/manual-actions?{query}").json
        assert body["total"] == len(body["items"])
        return [r["id"] for r in body["items"]]

    r = [row.id for row in rows]
    assert ids("") == [r[3], r[2], r[1], r[0]]  # deleted actions are gone
    assert ids(f"workflow_id={wf1.id}") == [r[3], r[0]]
    assert ids(f"assignee_id={users['agent2'].id}") == [r[1]]
    assert ids(f"contact_id={b.id}") == [r[3], r[2]]
    assert ids("type=call") == [r[3], r[1]]
    assert ids("status=completed") == [r[2]]
    assert ids("status=queued&type=sms") == [r[0]]
    assert ids(f"workflow_id={wf2.id}&assignee_id={users['agent'].id}") == [r[2]]
    page = admin.get("/api/manual-actions?per_page=3&page=2").json
    assert (page["total"], [x["id"] for x in page["items"]]) == (4, [r[0]])
    for bad in ("type=email", "status=deleted", "workflow_id=x", "per_page=500"):
        res = admin.get(f"/api/manual-actions?{bad}")
        assert res.status_code == 422 and res.json["error"]["fields"], bad


def test_agents_see_only_their_own_actions(as_user, account, users, agent_contact):
    mine = add_action(account, agent_contact, assignee=users["agent"])
    theirs = add_action(account, agent_contact, assignee=users["agent2"])
    add_action(account, agent_contact)  # unassigned
    agent = as_user("agent")
    assert [r["id"] for r in agent.get("/api/manual-actions").json["items"]] == [mine.id]
    assert agent.get(f"/api/manual-actions?assignee_id={users['agent2'].id}").json == {
        "items": [], "total": 0, "page": 1, "per_page": 50}
    assert agent.get(f"/api/manual-actions/{mine.id}").status_code == 200
    assert agent.get(f"/api/manual-actions/{theirs.id}").status_code == 404


def test_other_accounts_actions_are_invisible(client, as_user, account, users, agent_contact):
    ours = add_action(account, agent_contact, assignee=users["agent"])
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    boss = ApiClient(client, create_user("boss@other.test", "admin", "pw", "Boss", other))
    assert boss.get("/api/manual-actions").json["total"] == 0
    assert boss.get(f"/api/manual-actions/{ours.id}").status_code == 404
    assert boss.post(f"/api/manual-actions/{ours.id}/complete", json={"message": "hi"}).status_code == 404
    assert boss.delete(f"/api/manual-actions/{ours.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(ManualAction, ours.id).status == "queued"
    assert messages() == []


# --- complete: SMS -------------------------------------------------------

def test_complete_sms_sends_and_resumes_the_run(app, as_user, account, users, agent_contact):
    action = parked_action(app, account, agent_contact)
    assert action.message == "Hi Grace" and action.assignee_id == users["agent"].id
    assert run_of(action).status == "parked"

    res = as_user("agent").post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi Grace, edited"})
    assert res.status_code == 200, res.json
    assert res.json["status"] == "completed" and res.json["message"] == "Hi Grace, edited"
    assert res.json["completed_at"] is not None
    [sent] = messages()
    assert (sent.status, sent.provider, sent.body) == ("sent", "console", "Hi Grace, edited")
    assert (sent.to_number, sent.contact_id, sent.direction) == ("+14155551000", agent_contact.id, "outbound")
    assert (sent.manual_action_id, sent.sent_by_id, sent.idempotency_key) == (
        action.id, users["agent"].id, f"manual:{action.id}")
    assert (sent.workflow_id, sent.enrollment_id, sent.is_test) == (action.workflow_id, action.enrollment_id, False)
    assert sent.sent_at is not None and sent.send_at is None

    run_jobs(app)
    run = run_of(action)
    assert run.status == "completed"
    assert [n.body for n in db.session.scalars(select(Note))] == ["texted"]
    resumed = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "s1")
                                 .order_by(ExecutionLog.id)).all()
    assert resumed[-1].output["resumed_by"] == "completed"
    stored = db.session.get(ManualAction, action.id)
    assert stored.completed_by_id == users["agent"].id


def test_complete_twice_sends_once(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    agent = as_user("agent")
    first = agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "One"})
    second = agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Two"})
    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    assert [m.body for m in messages()] == ["One"]
    run_jobs(app)
    assert run_of(action).status == "completed"
    assert len(db.session.scalars(select(Note)).all()) == 1


def test_concurrent_completes_send_once(app, users, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    action_id = action.id
    tokens = [ApiClient(app.test_client(), users[role]).headers for role in ("agent", "admin", "manager", "agent")]
    db.session.commit()  # let the request threads take the database
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def complete(headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        res = client.post(f"/api/manual-actions/{action_id}/complete", json={"message": "Once"}, headers=headers)
        statuses.append(res.status_code)

    threads = [threading.Thread(target=complete, args=(h,)) for h in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * len(tokens)
    assert [m.status for m in messages()] == ["sent"]


def test_scheduled_sms_is_stored_not_sent(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    when = datetime.now(UTC) + timedelta(hours=2)
    res = as_user("admin").post(f"/api/manual-actions/{action.id}/complete",
                                json={"message": "Later", "send_at": when.isoformat()})
    assert res.status_code == 200 and res.json["status"] == "completed"
    [queued] = messages()
    assert queued.status == "queued" and queued.sent_at is None
    assert abs(queued.send_at - when.replace(tzinfo=None)) < timedelta(seconds=1)
    run_jobs(app)
    assert run_of(action).status == "completed"
    assert messages()[0].status == "queued"


def test_send_at_long_past_or_far_ahead_is_refused_and_just_past_sends_now(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    admin = as_user("admin")
    res = admin.post(f"/api/manual-actions/{action.id}/complete",
                     json={"message": "x", "send_at": "2999-01-01T00:00:00+00:00"})
    assert res.status_code == 422 and list(res.json["error"]["fields"]) == ["send_at"]
    res = admin.post(f"/api/manual-actions/{action.id}/complete",
                     json={"message": "x", "send_at": "2020-01-01T09:00:00"})
    assert res.status_code == 422
    assert res.json["error"]["fields"]["send_at"] == ["That time has already passed; pick a time in the future, "
                                                      "or send now."]
    assert messages() == []
    just_past = (utcnow() - timedelta(seconds=30)).isoformat() + "Z"  # picked a moment ago: now
    res = admin.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Now", "send_at": just_past})
    assert res.status_code == 200
    assert [(m.status, m.send_at) for m in messages()] == [("sent", None)]


@pytest.mark.parametrize("change", [{"phone": None}, {"dnd_sms": True}])
def test_sms_to_contact_without_phone_or_with_dnd_is_422(app, as_user, account, agent_contact, change):
    action = parked_action(app, account, agent_contact)
    for name, value in change.items():
        setattr(agent_contact, name, value)
    db.session.commit()
    res = as_user("agent").post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi"})
    assert res.status_code == 422
    assert "Grace Hopper" in res.json["error"]["message"]
    assert messages() == []
    db.session.expire_all()
    assert db.session.get(ManualAction, action.id).status == "queued"
    run_jobs(app)
    assert run_of(action).status == "parked"


def test_sms_body_validation(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    agent = as_user("agent")
    for body, field in [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 1601}, "message"),
        ({"message": 5}, "message"),
        ({"message": "hi", "outcome": "answered"}, "outcome"),
        ({"message": "hi", "send_at": "tomorrow"}, "send_at"),
        ({"message": "hi", "send_at": "0001-01-01T00:00:00+05:00"}, "send_at"),
        ({"message": "hi", "colour": "red"}, "colour"),
    ]:
        res = agent.post(f"/api/manual-actions/{action.id}/complete", json=body)
        assert res.status_code == 422, body
        assert field in res.json["error"]["fields"], body
    assert messages() == []
    db.session.expire_all()
    assert db.session.get(ManualAction, action.id).status == "queued"


def test_agent_cannot_complete_or_delete_another_agents_action(app, as_user, account, users, agent_contact):
    action = parked_action(app, account, agent_contact)
    other = as_user("agent2")
    res = other.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi"})
    assert res.status_code == 404 and res.json["error"]["code"] == "not_found"
    assert other.delete(f"/api/manual-actions/{action.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(ManualAction, action.id).status == "queued"
    assert messages() == []


# --- complete: call ------------------------------------------------------

def test_complete_call_records_outcome_and_resumes(app, as_user, account, users, agent_contact):
    action = parked_action(app, account, agent_contact, CALL_THEN_NOTE)
    assert action.type == "call"
    agent = as_user("agent")
    res = agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "hi"})
    assert res.status_code == 422 and "outcome" in res.json["error"]["fields"]
    res = agent.post(f"/api/manual-actions/{action.id}/complete", json={"outcome": "picked_up"})
    assert res.status_code == 422 and "outcome" in res.json["error"]["fields"]
    res = agent.post(f"/api/manual-actions/{action.id}/complete",
                     json={"outcome": "call_back_later", "notes": "Try after 5pm"})
    assert res.status_code == 200
    assert (res.json["outcome"], res.json["notes"], res.json["status"]) == ("call_back_later", "Try after 5pm",
                                                                            "completed")
    assert messages() == []
    run_jobs(app)
    assert run_of(action).status == "completed"
    assert [n.body for n in db.session.scalars(select(Note))] == ["called"]


# --- delete --------------------------------------------------------------

def test_delete_moves_the_run_to_the_next_step(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    agent = as_user("agent")
    assert agent.delete(f"/api/manual-actions/{action.id}").status_code == 204
    assert agent.get("/api/manual-actions").json["total"] == 0
    assert agent.get(f"/api/manual-actions/{action.id}").status_code == 404
    assert agent.delete(f"/api/manual-actions/{action.id}").status_code == 404
    assert agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "x"}).status_code == 404
    db.session.expire_all()
    stored = db.session.get(ManualAction, action.id)
    assert stored.status == "deleted" and stored.deleted_at is not None
    run_jobs(app)
    assert run_of(action).status == "completed"
    assert [n.body for n in db.session.scalars(select(Note))] == ["texted"]
    log = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "s1").order_by(ExecutionLog.id)).all()
    assert log[-1].output["resumed_by"] == "deleted"
    assert messages() == []


def test_managers_may_delete_any_action(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    assert as_user("manager").delete(f"/api/manual-actions/{action.id}").status_code == 204
    run_jobs(app)
    assert run_of(action).status == "completed"


def test_deleting_a_completed_action_only_hides_it(app, as_user, account, agent_contact):
    action = parked_action(app, account, agent_contact)
    admin = as_user("admin")
    admin.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi"})
    assert admin.delete(f"/api/manual-actions/{action.id}").status_code == 204
    run_jobs(app)
    assert run_of(action).status == "completed"
    assert db.session.scalar(select(func.count()).select_from(Note)) == 1
    assert admin.get("/api/manual-actions").json["total"] == 0


# --- dashboard -----------------------------------------------------------

def test_dashboard_counts(as_user, account, users, agent_contact):
    for kind, assignee, status in [
        ("sms", users["agent"], "queued"), ("call", users["agent"], "queued"), ("call", users["agent"], "queued"),
        ("sms", users["agent2"], "queued"), ("sms", None, "queued"), ("sms", users["agent"], "completed"),
    ]:
        add_action(account, agent_contact, kind=kind, assignee=assignee, status=status)
    gone = add_action(account, agent_contact, assignee=users["agent2"])
    as_user("admin").delete(f"/api/manual-actions/{gone.id}")

    agent = as_user("agent").get("/api/dashboard/manual-actions")
    assert agent.status_code == 200
    assert agent.json == {"pending_total": 3, "pending_calls": 2, "pending_sms": 1}
    manager = as_user("manager").get("/api/dashboard/manual-actions").json
    assert {k: manager[k] for k in ("pending_total", "pending_calls", "pending_sms")} == {
        "pending_total": 5, "pending_calls": 2, "pending_sms": 3}
    assert manager["by_assignee"] == [
        {"assignee_id": users["agent"].id, "assignee_name": "Agent", "pending": 3},
        {"assignee_id": users["agent2"].id, "assignee_name": "Agent2", "pending": 1},
        {"assignee_id": None, "assignee_name": "Unassigned", "pending": 1},
    ]


def test_test_runs_actions_are_listed_marked_and_never_counted(as_user, account, users, agent_contact):
    add_action(account, agent_contact, assignee=users["agent"])
    test = add_action(account, agent_contact, assignee=users["agent"])
    test.is_test = True
    db.session.commit()

    listed = as_user("agent").get("/api/manual-actions").json["items"]
    assert sorted(row["is_test"] for row in listed) == [False, True]  # listed, so the list can mark it "Test"
    assert as_user("agent").get("/api/dashboard/manual-actions").json["pending_total"] == 1
    manager = as_user("manager").get("/api/dashboard/manual-actions").json
    assert manager["pending_total"] == 1
    assert manager["by_assignee"] == [{"assignee_id": users["agent"].id, "assignee_name": "Agent", "pending": 1}]


def test_dashboard_is_per_account(client, account, users, agent_contact):
    add_action(account, agent_contact, assignee=users["agent"])
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    boss = ApiClient(client, create_user("boss@other.test", "admin", "pw", "Boss", other))
    assert boss.get("/api/dashboard/manual-actions").json == {
        "pending_total": 0, "pending_calls": 0, "pending_sms": 0, "by_assignee": []}
