"""Reports: call outcomes, manual actions completed per agent per day, workflow funnels.

Completed actions are stored rows with chosen completion times (the reports read only those
columns), so day buckets, time zones and range edges can be pinned to the second; the funnel's
counts come from real runs of a real workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import ManualAction
from jobqueue import enroll
from tests.factories import ApiClient, make_contact, make_outsider, make_workflow, run_jobs

NEW_YORK = "America/New_York"


def done(account, contact, user, when: str, *, kind="call", outcome="interested", workflow=None, **extra):
    """A completed manual action; `when` is naive UTC ("2026-03-01T05:00:00")."""
    action = ManualAction(account_id=account.id, type=kind, status=extra.pop("status", "completed"),
                          contact_id=contact.id, assignee_id=user.id, completed_by_id=user.id,
                          outcome=outcome if kind == "call" else None, completed_at=datetime.fromisoformat(when),
                          workflow_id=workflow.id if workflow else None, **extra)
    db.session.add(action)
    db.session.commit()
    return action


@pytest.fixture
def contact(account):
    return make_contact(account)


def day(report, name):
    return next(d for d in report["by_day"] if d["day"] == name)


def test_call_outcomes_per_agent_workflow_and_day(app, account, users, contact, as_user):
    wf = make_workflow(account, {"name": "Calls", "start": "c", "steps": {
        "c": {"type": "manual_call", "config": {}, "next": None}}})
    agent, agent2 = users["agent"], users["agent2"]
    done(account, contact, agent, "2026-03-02T15:00:00", workflow=wf)
    done(account, contact, agent, "2026-03-02T16:00:00", outcome="no_answer", workflow=wf)
    done(account, contact, agent2, "2026-03-03T15:00:00")
    done(account, contact, agent2, "2026-03-03T15:30:00", kind="sms")  # not a call
    resp = as_user("manager").get("/api/reports/calls?from=2026-03-01&to=2026-03-04")
    assert resp.status_code == 200
    report = resp.json
    assert (report["from"], report["to"], report["tz"]) == ("2026-03-01", "2026-03-04", "UTC")
    assert report["total"] == 3 and report["outcomes"] == {"interested": 2, "no_answer": 1}
    assert [(a["id"], a["total"], a["outcomes"]) for a in report["by_agent"]] == [
        (agent.id, 2, {"interested": 1, "no_answer": 1}), (agent2.id, 1, {"interested": 1})]
    assert report["by_agent"][0]["name"] == "Agent"
    assert [(w["id"], w["name"], w["total"]) for w in report["by_workflow"]] == [(wf.id, "Calls", 2), (None, None, 1)]
    assert [d["day"] for d in report["by_day"]] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert [d["total"] for d in report["by_day"]] == [0, 2, 1, 0]
    assert day(report, "2026-03-02")["outcomes"] == {"interested": 1, "no_answer": 1}


def test_days_are_the_viewers_and_both_edges_hold(app, account, users, contact, as_user):
    agent = users["agent"]
    # 2026-03-01..02 in New York (EST, UTC-5) is [2026-03-01T05:00Z, 2026-03-03T05:00Z).
    for when in ("2026-03-01T04:59:59", "2026-03-01T05:00:00", "2026-03-03T04:59:59", "2026-03-03T05:00:00"):
        done(account, contact, agent, when)
    report = as_user("manager").get(f"/api/reports/calls?from=2026-03-01&to=2026-03-02&tz={NEW_YORK}").json
    assert report["total"] == 2 and report["tz"] == NEW_YORK
    assert [(d["day"], d["total"]) for d in report["by_day"]] == [("2026-03-01", 1), ("2026-03-02", 1)]
    actions = as_user("manager").get(f"/api/reports/manual-actions?from=2026-03-01&to=2026-03-02&tz={NEW_YORK}").json
    assert actions["total"] == 2 and actions["by_agent"][0]["counts"] == [1, 1]


def test_days_follow_daylight_saving_time(app, account, users, contact, as_user):
    # New York moves to EDT (UTC-4) at 2026-03-08 02:00: 04:30Z on the 9th is 00:30 on the 9th there,
    # where the winter offset would say 23:30 on the 8th; 04:30Z on the 8th is still 23:30 on the 7th.
    done(account, contact, users["agent"], "2026-03-08T04:30:00")
    done(account, contact, users["agent"], "2026-03-09T04:30:00")
    report = as_user("admin").get(f"/api/reports/calls?from=2026-03-07&to=2026-03-09&tz={NEW_YORK}").json
    assert [(d["day"], d["total"]) for d in report["by_day"]] == [("2026-03-07", 1), ("2026-03-08", 0),
                                                                  ("2026-03-09", 1)]


def test_manual_actions_completed_per_agent_per_day(app, account, users, contact, as_user):
    agent, agent2 = users["agent"], users["agent2"]
    done(account, contact, agent, "2026-05-01T09:00:00", kind="sms")
    done(account, contact, agent, "2026-05-01T10:00:00")
    done(account, contact, agent, "2026-05-03T10:00:00", kind="sms")
    done(account, contact, agent2, "2026-05-02T10:00:00", kind="sms")
    done(account, contact, agent2, "2026-05-02T11:00:00", kind="sms", is_test=True)  # a test run's
    done(account, contact, agent2, "2026-05-02T12:00:00", kind="sms", status="queued")  # not completed
    done(account, contact, agent2, "2026-05-02T13:00:00", kind="sms", status="deleted")
    resp = as_user("manager").get("/api/reports/manual-actions?from=2026-05-01&to=2026-05-03")
    assert resp.status_code == 200
    report = resp.json
    assert report["days"] == ["2026-05-01", "2026-05-02", "2026-05-03"] and report["total"] == 4
    assert [(a["id"], a["name"], a["total"], a["by_type"], a["counts"]) for a in report["by_agent"]] == [
        (agent.id, "Agent", 3, {"sms": 2, "call": 1}, [2, 0, 1]),
        (agent2.id, "Agent2", 1, {"sms": 1}, [0, 1, 0]),
    ]
    with_tests = as_user("manager").get("/api/reports/manual-actions?from=2026-05-01&to=2026-05-03"
                                        "&include_test=true").json
    assert with_tests["total"] == 5


def test_the_default_is_the_last_30_days(app, account, users, contact, as_user):
    now = datetime.now(UTC).replace(tzinfo=None)
    done(account, contact, users["agent"], now.isoformat())
    done(account, contact, users["agent"], (now - timedelta(days=40)).isoformat())
    report = as_user("manager").get("/api/reports/manual-actions").json
    assert len(report["days"]) == 30 and report["days"][-1] == now.date().isoformat()
    assert report["total"] == 1 and report["by_agent"][0]["counts"][-1] == 1
    assert as_user("manager").get("/api/reports/calls").json["total"] == 1


def test_another_accounts_data_is_never_counted(app, account, users, contact, as_user, client):
    outsider = make_outsider("admin")
    their_contact = make_contact(db.session.get(type(account), outsider.account_id))
    done(db.session.get(type(account), outsider.account_id), their_contact, outsider, "2026-05-01T09:00:00")
    done(account, contact, users["agent"], "2026-05-01T09:00:00", kind="sms")
    query = "?from=2026-05-01&to=2026-05-01"
    mine = as_user("admin")
    assert mine.get(f"/api/reports/calls{query}").json["total"] == 0
    assert mine.get(f"/api/reports/manual-actions{query}").json["total"] == 1
    theirs = ApiClient(client, outsider)
    assert theirs.get(f"/api/reports/calls{query}").json["total"] == 1
    assert [a["id"] for a in theirs.get(f"/api/reports/manual-actions{query}").json["by_agent"]] == [outsider.id]


def test_agents_are_refused_and_see_only_their_own_calls(app, account, users, contact, as_user):
    done(account, contact, users["agent"], "2026-05-01T09:00:00")
    done(account, contact, users["agent2"], "2026-05-01T09:00:00")
    wf = make_workflow(account, {"name": "F", "start": "a", "steps": {"a": {"type": "end", "config": {}}}})
    agent = as_user("agent")
    assert agent.get("/api/reports/manual-actions").status_code == 403
    assert agent.get(f"/api/reports/funnel?workflow_id={wf.id}").status_code == 403
    # The call report has always answered agents, about their own calls only.
    mine = agent.get("/api/reports/calls?from=2026-05-01&to=2026-05-01").json
    assert mine["total"] == 1 and [a["id"] for a in mine["by_agent"]] == [users["agent"].id]


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-05-02&to=2026-05-01", "from"),
    ("from=2025-01-01&to=2026-05-01", "from"),  # more than 366 days
    ("from=yesterday", "from"),
    ("to=9999-12-31", "from"),
    ("tz=Mars/Olympus_Mons", "tz"),
    ("tz=../../etc/passwd", "tz"),
])
def test_bad_days_are_refused_naming_the_field(app, users, as_user, query, field):
    for path in ("/api/reports/calls", "/api/reports/manual-actions"):
        resp = as_user("manager").get(f"{path}?{query}")
        assert resp.status_code == 422, (path, query)
        assert field in resp.json["error"]["fields"]


FUNNEL_FLOW = {"name": "Funnel", "start": "tag", "steps": {
    "tag": {"type": "add_tag", "name": "Tag as lead", "config": {"tag": "lead"}, "next": "assign"},
    "assign": {"type": "assign_user", "config": {"user_ids": []}, "next": "sms"},
    "sms": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi"}, "next": None}}}


def test_the_funnel_counts_contacts_past_each_step_in_graph_order(app, account, users, as_user):
    graph = {**FUNNEL_FLOW, "steps": {**FUNNEL_FLOW["steps"], "assign": {
        "type": "assign_user", "name": "Pick an agent", "config": {"user_ids": [users["agent"].id]}, "next": "sms"}}}
    wf = make_workflow(account, graph)
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(3)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    first = db.session.scalars(select(ManualAction).order_by(ManualAction.id)).first()
    assert as_user("agent").post(f"/api/manual-actions/{first.id}/complete", json={"message": "Hi"}).status_code == 200
    run_jobs(app)
    resp = as_user("manager").get(f"/api/reports/funnel?workflow_id={wf.id}")
    assert resp.status_code == 200
    body = resp.json
    assert (body["workflow_id"], body["name"], body["version"]) == (wf.id, "Funnel", 1)
    assert [(s["step"], s["label"], s["passed"]) for s in body["steps"]] == [
        ("tag", "Tag as lead", 3), ("assign", "Pick an agent", 3), ("sms", "Say hi", 1)]


def test_the_funnel_is_only_for_the_accounts_own_workflows(app, account, users, as_user, client):
    wf = make_workflow(account, {"name": "F", "start": "a", "steps": {"a": {"type": "end", "config": {}}}})
    outsider = ApiClient(client, make_outsider("admin"))
    resp = outsider.get(f"/api/reports/funnel?workflow_id={wf.id}")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    missing = as_user("manager").get("/api/reports/funnel")
    assert missing.status_code == 422 and "workflow_id" in missing.json["error"]["fields"]
