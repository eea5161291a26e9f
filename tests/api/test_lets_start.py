"""Let's Start: claiming the next action, skipping, the contact context, dialling."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app import create_app
from builder.extensions import db
from builder.models import Call, Contact, Enrollment, ManualAction, Message, utcnow
from jobqueue import enroll
from jobqueue.queues import get_queue
from tests.factories import ApiClient, app_config, make_contact, make_workflow, run_jobs


def queue_actions(app, account, users, kind="manual_sms", n=3, assignees=("agent",)):
    ids = [users[a].id for a in assignees]
    graph = {"name": f"{kind} flow", "start": "assign", "steps": {
        "assign": {"type": "assign_user", "config": {"user_ids": ids}, "next": "m"},
        "m": {"type": kind, "config": {"message": "Hi {{ contact.first_name }}"} if kind == "manual_sms" else {},
              "next": None}}}
    wf = make_workflow(account, graph)
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(n)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    return wf, contacts


def test_start_claims_the_oldest_matching_action_and_moves_on_after_completion(app, account, users, as_user):
    queue_actions(app, account, users)
    agent = as_user("agent")
    first = agent.post("/api/manual-actions/start", json={})
    assert first.status_code == 200 and first.json["contact_name"] == "C0"
    assert first.json["claimed_by_id"] == users["agent"].id and first.json["claim_expires_at"]
    again = agent.post("/api/manual-actions/start", json={})
    assert again.json["id"] == first.json["id"]  # still mine until I finish or skip
    agent.post(f"/api/manual-actions/{first.json['id']}/complete", json={"message": "Hello C0"})
    second = agent.post("/api/manual-actions/start", json={})
    assert second.json["contact_name"] == "C1"


def test_two_agents_never_get_the_same_action(app, account, users, as_user):
    queue_actions(app, account, users, assignees=("agent", "agent2"), n=4)
    for action in db.session.scalars(select(ManualAction)):
        action.assignee_id = None  # one shared queue, worked by two managers
    db.session.commit()
    a, b = as_user("manager"), as_user("admin")
    got = {client.post("/api/manual-actions/start", json={}).json["id"] for client in (a, b)}
    assert len(got) == 2


def test_concurrent_starts_claim_distinct_actions(database_url, redis_url):
    """Eight requests at once, from separate connections, for one queue of eight."""
    app = create_app(app_config(database_url, redis_url))
    with app.app_context():
        db.create_all()
        from builder.domain.users import create_user
        from builder.models import Account

        account = Account(name="A")
        db.session.add(account)
        db.session.commit()
        people = [create_user(f"m{i}@acme.test", "manager", "correct-horse", account=account) for i in range(8)]
        contact = make_contact(account)
        db.session.add_all(ManualAction(account_id=account.id, type="call", contact_id=contact.id) for _ in range(8))
        db.session.commit()
        clients = [ApiClient(app.test_client(), p) for p in people]
        db.session.remove()
    results, barrier = [], threading.Barrier(8)

    def take(client):
        with app.app_context():
            barrier.wait()
            results.append(client.post("/api/manual-actions/start", json={}).json["id"])

    threads = [threading.Thread(target=take, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 9))
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_a_lease_runs_out_when_an_agent_walks_away(app, account, users, as_user):
    queue_actions(app, account, users, assignees=("agent",), n=1)
    action = db.session.scalar(select(ManualAction))
    action.assignee_id = None
    db.session.commit()
    manager, admin = as_user("manager"), as_user("admin")
    taken = manager.post("/api/manual-actions/start", json={}).json
    assert admin.post("/api/manual-actions/start", json={}).status_code == 404
    action = db.session.get(ManualAction, taken["id"])
    action.claim_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert admin.post("/api/manual-actions/start", json={}).json["id"] == taken["id"]


def test_skip_and_exclude_move_to_the_next_one(app, account, users, as_user):
    queue_actions(app, account, users, n=3)
    agent = as_user("agent")
    first = agent.post("/api/manual-actions/start", json={}).json
    skipped = agent.post(f"/api/manual-actions/{first['id']}/skip").json
    assert skipped["claimed_by_id"] is None
    nxt = agent.post("/api/manual-actions/start", json={"exclude_ids": [first["id"]]}).json
    assert nxt["contact_name"] == "C1"


def test_start_honours_filters_and_jumps_to_an_action(app, account, users, as_user):
    queue_actions(app, account, users, kind="manual_sms", n=2)
    queue_actions(app, account, users, kind="manual_call", n=2)
    agent = as_user("agent")
    assert agent.post("/api/manual-actions/start", json={"type": "call"}).json["type"] == "call"
    target = db.session.scalars(select(ManualAction).where(ManualAction.type == "sms")).all()[-1]
    jumped = agent.post("/api/manual-actions/start", json={"action_id": target.id}).json
    assert jumped["id"] == target.id
    # Only one claim at a time: jumping freed the call.
    assert db.session.scalar(select(ManualAction).where(ManualAction.type == "call",
                                                        ManualAction.claimed_by_id.is_not(None))) is None


def test_agents_start_only_their_own_queue(app, account, users, as_user):
    queue_actions(app, account, users, assignees=("agent2",), n=2)
    resp = as_user("agent").post("/api/manual-actions/start", json={})
    assert resp.status_code == 404 and resp.json["error"]["message"].startswith("No Manual Actions")
    other = db.session.scalar(select(ManualAction))
    assert as_user("agent").post("/api/manual-actions/start", json={"action_id": other.id}).status_code == 404
    assert as_user("agent").get(f"/api/manual-actions/{other.id}/context").status_code == 404


def test_context_shows_contact_messages_and_notes(app, account, users, as_user):
    _, contacts = queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    agent = as_user("agent")
    agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "First text"})
    ctx = agent.get(f"/api/manual-actions/{action.id}/context").json
    assert ctx["contact"]["first_name"] == "C0" and ctx["contact"]["phone"] == "+14155551000"
    assert [m["body"] for m in ctx["messages"]] == ["First text"]
    assert ctx["action"]["status"] == "completed"


def test_dial_records_a_simulated_call_and_outcome_completes(app, account, users, as_user):
    queue_actions(app, account, users, kind="manual_call", n=1)
    action = db.session.scalar(select(ManualAction))
    agent = as_user("agent")
    dialled = agent.post(f"/api/manual-actions/{action.id}/dial")
    assert dialled.status_code == 201 and dialled.json["status"] == "simulated"
    call = db.session.scalar(select(Call))
    assert call.user_id == users["agent"].id and call.to_number == "+14155551000" and call.provider == "console"
    done = agent.post(f"/api/manual-actions/{action.id}/complete", json={"outcome": "interested", "notes": "Keen"})
    assert done.json["outcome"] == "interested"
    assert agent.post(f"/api/manual-actions/{action.id}/dial").status_code == 409
    run_jobs(app)
    assert db.session.scalar(select(Enrollment.status)) == "completed"


def test_dial_refuses_without_a_phone_or_with_call_dnd(app, account, users, as_user):
    _, contacts = queue_actions(app, account, users, kind="manual_call", n=1)
    action = db.session.scalar(select(ManualAction))
    contact = db.session.get(Contact, contacts[0].id)
    contact.dnd_call = True
    db.session.commit()
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/dial")
    assert resp.status_code == 422 and "DND" in resp.json["error"]["message"]
    assert db.session.scalar(select(Call)) is None


@pytest.mark.parametrize("delay", [timedelta(hours=2)])
def test_scheduled_sms_waits_for_its_time(app, account, users, as_user, delay):
    queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    when = (datetime.now(UTC) + delay).replace(microsecond=0)
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/complete",
                                 json={"message": "Later", "send_at": when.isoformat()})
    assert resp.status_code == 200
    message = db.session.scalar(select(Message))
    assert message.status == "queued" and message.send_at == when.replace(tzinfo=None)
    registry = ScheduledJobRegistry(queue=get_queue())
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == when
    # Asked to deliver early (a duplicate job, the reconciler), it still waits.
    from jobqueue import outbox

    outbox.deliver([message.id])
    db.session.refresh(message)
    assert message.status == "queued"


def test_call_report_counts_outcomes_per_agent_and_workflow(app, account, users, as_user):
    wf, _ = queue_actions(app, account, users, kind="manual_call", n=3, assignees=("agent", "agent2"))
    outcomes = iter(["interested", "no_answer", "interested"])
    for action in db.session.scalars(select(ManualAction).order_by(ManualAction.id)).all():
        who = "agent" if action.assignee_id == users["agent"].id else "agent2"
        as_user(who).post(f"/api/manual-actions/{action.id}/complete", json={"outcome": next(outcomes)})
    report = as_user("manager").get("/api/reports/calls").json
    assert report["total"] == 3 and report["outcomes"] == {"interested": 2, "no_answer": 1}
    assert sum(a["total"] for a in report["by_agent"]) == 3 and len(report["by_agent"]) == 2
    assert report["by_workflow"] == [{"id": wf.id, "name": wf.name, "total": 3,
                                      "outcomes": {"interested": 2, "no_answer": 1}}]
    mine = as_user("agent").get("/api/reports/calls").json
    assert [a["id"] for a in mine["by_agent"]] == [users["agent"].id]


def test_managers_reassign_queued_actions(app, account, users, as_user):
    queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    as_user("agent").post("/api/manual-actions/start", json={})
    resp = as_user("manager").patch(f"/api/manual-actions/{action.id}", json={"assignee_id": users["agent2"].id})
    assert resp.status_code == 200 and resp.json["assignee_id"] == users["agent2"].id
    assert resp.json["claimed_by_id"] is None
    assert as_user("agent").get(f"/api/manual-actions/{action.id}").status_code == 404
    assert as_user("agent2").post("/api/manual-actions/start", json={}).json["id"] == action.id
    assert as_user("agent2").patch(f"/api/manual-actions/{action.id}", json={"assignee_id": None}).status_code == 403
    bad = as_user("admin").patch(f"/api/manual-actions/{action.id}", json={"assignee_id": 999})
    assert bad.status_code == 422 and "assignee_id" in bad.json["error"]["fields"]
