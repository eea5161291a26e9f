"""A contact's timeline (messages, calls, notes, manual actions, runs) and adding notes."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, select

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, Call, ManualAction, Note, utcnow
from tests.factories import ApiClient, make_contact, make_workflow, run_jobs

CALL_FLOW = {
    "name": "Intro",
    "start": "c1",
    "steps": {
        "c1": {"type": "manual_call", "name": "Intro call", "config": {}, "next": "c2"},
        "c2": {"type": "add_note", "config": {"body": "called {{ contact.first_name }}"}, "next": None},
    },
}


def history(app, account, users, as_user):
    """A contact assigned to the agent with one of everything: a run (manual call, then a workflow note),
    its call with outcome, duration and notes, a text the agent sent, and a note the agent wrote."""
    contact = make_contact(account, first_name="Grace", assigned_user_id=users["agent"].id)
    workflow = make_workflow(account, CALL_FLOW)
    agent = as_user("agent")
    assert as_user("manager").post(f"/api/workflows/{workflow.id}/enroll",
                                   json={"contact_ids": [contact.id]}).status_code in (200, 201, 202)
    run_jobs(app)
    action = db.session.scalar(select(ManualAction).where(ManualAction.contact_id == contact.id))
    db.session.add(Call(account_id=account.id, manual_action_id=action.id, contact_id=contact.id,
                        user_id=users["agent"].id, to_number=contact.phone, status="completed",
                        provider="console", duration_seconds=95))
    db.session.commit()
    res = agent.post(f"/api/manual-actions/{action.id}/complete",
                     json={"outcome": "call_back_later", "notes": "Ring after 5"})
    assert res.status_code == 200, res.json
    run_jobs(app)
    assert agent.post(f"/api/contacts/{contact.id}/messages", json={"body": "Hi Grace"}).status_code == 201
    assert agent.post(f"/api/contacts/{contact.id}/notes", json={"body": "Prefers evenings"}).status_code == 201
    return contact, workflow, action


def test_the_timeline_merges_every_kind_newest_first(app, account, users, as_user):
    contact, workflow, action = history(app, account, users, as_user)
    res = as_user("manager").get(f"/api/contacts/{contact.id}/timeline")
    assert res.status_code == 200, res.json
    items = res.json["items"]
    assert res.json["next"] is None
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    by_kind = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    assert set(by_kind) == {"message", "call", "note", "manual_action", "run"}

    (call,) = by_kind["call"]
    assert (call["outcome"], call["notes"], call["duration_seconds"], call["author"]) == (
        "call_back_later", "Ring after 5", 95, "Agent")
    (message,) = by_kind["message"]
    assert (message["body"], message["direction"], message["author"]) == ("Hi Grace", "outbound", "Agent")
    assert sorted((n["body"], n["author"], n.get("workflow_name")) for n in by_kind["note"]) == [
        ("Prefers evenings", "Agent", None), ("called Grace", None, "Intro")]
    (manual,) = by_kind["manual_action"]
    assert (manual["id"], manual["type"], manual["status"], manual["outcome"]) == (
        action.id, "call", "completed", "call_back_later")
    (run,) = by_kind["run"]
    assert (run["workflow_name"], run["workflow_id"], run["status"]) == ("Intro", workflow.id, "completed")
    assert run["log_url"] == f"/api/workflows/{workflow.id}/executions?enrollment_id={run['id']}"
    # The link leads to the run's log: its step runs (the call parked, then went on), in order.
    log = as_user("manager").get(run["log_url"]).json
    assert {row["enrollment_id"] for row in log} == {run["id"]}
    assert [row["step_id"] for row in log] == ["c1", "c1", "c2"]


def test_a_waiting_run_says_which_step_and_agents_get_no_log_link(app, account, users, as_user):
    contact = make_contact(account, first_name="Grace", assigned_user_id=users["agent"].id)
    workflow = make_workflow(account, CALL_FLOW)
    as_user("manager").post(f"/api/workflows/{workflow.id}/enroll", json={"contact_ids": [contact.id]})
    run_jobs(app)
    (run,) = [i for i in as_user("agent").get(f"/api/contacts/{contact.id}/timeline").json["items"]
              if i["kind"] == "run"]
    assert (run["current_step"], run["step_name"], run["status"]) == ("c1", "Intro call", "parked")
    assert run["log_url"] is None  # the execution log is for admins and managers


def test_pages_walk_the_whole_timeline_once_even_with_equal_times(app, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    same = utcnow().replace(microsecond=0)
    db.session.add_all([Note(contact_id=contact.id, body=f"n{n}", created_at=same) for n in range(4)])
    db.session.add_all([Note(contact_id=contact.id, body=f"old{n}", created_at=same - timedelta(hours=n + 1))
                        for n in range(3)])
    db.session.add(ManualAction(account_id=account.id, type="sms", contact_id=contact.id, created_at=same,
                                assignee_id=users["agent"].id))
    db.session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        query = f"?limit=3&before={cursor}" if cursor else "?limit=3"
        res = as_user("agent").get(f"/api/contacts/{contact.id}/timeline{query}")
        assert res.status_code == 200, res.json
        assert len(res.json["items"]) <= 3
        seen += [(i["kind"], i["id"]) for i in res.json["items"]]
        pages += 1
        cursor = res.json["next"]
        if cursor is None:
            break
    assert pages == 3, seen
    assert len(seen) == len(set(seen)) == 8
    assert seen[-3:] == [("note", n.id) for n in db.session.scalars(
        select(Note).where(Note.body.like("old%")).order_by(Note.created_at.desc()))]


KIND_TABLES = ("messages", "calls", "notes", "manual_actions", "enrollments")


def history_queries(request) -> tuple[list[str], object]:
    """The statements a request ran on the timeline's tables (the caller's own reads left out)."""
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        found = re.search(r"\bFROM\s+(\w+)", statement)
        if found and found[1] in KIND_TABLES:
            statements.append(found[1])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        res = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert res.status_code == 200, res.json
    return statements, res


def test_a_page_costs_one_query_per_kind_however_long_the_history(app, account, users, as_user):
    api = as_user("manager")
    short, long = make_contact(account), make_contact(account, phone="+14155551001")
    db.session.add_all([Note(contact_id=long.id, body=f"n{n}") for n in range(60)])
    db.session.commit()
    empty, _ = history_queries(lambda: api.get(f"/api/contacts/{short.id}/timeline?limit=10"))
    full, res = history_queries(lambda: api.get(f"/api/contacts/{long.id}/timeline?limit=10"))
    assert len(res.json["items"]) == 10 and res.json["next"]
    assert sorted(empty) == sorted(full) == sorted(KIND_TABLES)


def test_a_bad_cursor_or_limit_is_a_422_naming_the_field(account, as_user):
    contact = make_contact(account)
    res = as_user("admin").get(f"/api/contacts/{contact.id}/timeline?before=yesterday")
    assert res.status_code == 422
    assert "before" in res.json["error"]["fields"]
    res = as_user("admin").get(f"/api/contacts/{contact.id}/timeline?limit=1000")
    assert res.status_code == 422
    assert "limit" in res.json["error"]["fields"]


def test_a_note_needs_words_and_fits_the_limit(account, as_user):
    contact = make_contact(account)
    for body in ("", "   "):
        res = as_user("admin").post(f"/api/contacts/{contact.id}/notes", json={"body": body})
        assert res.status_code == 422
        assert "body" in res.json["error"]["fields"]
    res = as_user("admin").post(f"/api/contacts/{contact.id}/notes", json={"body": "x" * 10_001})
    assert res.status_code == 422
    res = as_user("admin").post(f"/api/contacts/{contact.id}/notes", json={"body": "  Met at the fair  "})
    assert res.status_code == 201
    assert (res.json["kind"], res.json["body"], res.json["author"]) == ("note", "Met at the fair", "Admin")
    assert db.session.get(Note, res.json["id"]).contact_id == contact.id


def test_only_people_who_see_the_contact_read_or_add_to_its_timeline(app, client, account, users, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    as_user("agent").post(f"/api/contacts/{contact.id}/notes", json={"body": "Mine"})
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    outsider = ApiClient(client, create_user("boss@other.test", "admin", "correct-horse", "Boss", other))
    for caller in (as_user("agent2"), outsider):
        assert caller.get(f"/api/contacts/{contact.id}/timeline").status_code == 404
        assert caller.post(f"/api/contacts/{contact.id}/notes", json={"body": "Sneaky"}).status_code == 404
    assert db.session.scalars(select(Note.body).where(Note.contact_id == contact.id)).all() == ["Mine"]
    # Another account's contact's history never shows in this one's timeline.
    theirs = make_contact(other, first_name="Theirs")
    outsider.post(f"/api/contacts/{theirs.id}/notes", json={"body": "Their note"})
    bodies = [i.get("body") for i in as_user("admin").get(f"/api/contacts/{contact.id}/timeline").json["items"]]
    assert bodies == ["Mine"]
