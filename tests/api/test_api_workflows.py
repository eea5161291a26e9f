from sqlalchemy import func, select

from builder.extensions import db
from builder.models import BulkEnrollment, Enrollment, ExecutionLog
from tests.factories import make_contact, run_jobs

GRAPH = {
    "name": "Tag and note",
    "trigger": {"type": "manual", "config": {}},
    "start": "a",
    "steps": {
        "a": {"type": "add_tag", "config": {"tag": "lead"}, "next": "b"},
        "b": {"type": "add_note", "config": {"body": "Hello {{ contact.first_name }}"}, "next": None},
    },
}


def create(api, graph=GRAPH):
    resp = api.post("/api/workflows", json=graph)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_create_saves_draft_version_1_with_defaults(as_user):
    wf = create(as_user("admin"))
    assert wf["status"] == "draft" and wf["version"] == 1 and wf["published_version"] is None
    assert wf["graph"]["schema_version"] == 1
    assert wf["graph"]["settings"] == {"allow_reentry": False, "stop_on_response": False}


def test_put_makes_a_new_version_and_publish_picks_it(as_user):
    api = as_user("manager")
    wf = create(api)
    changed = {**GRAPH, "name": "Renamed"}
    resp = api.put(f"/api/workflows/{wf['id']}", json=changed)
    assert resp.json["version"] == 2 and resp.json["name"] == "Renamed"
    resp = api.post(f"/api/workflows/{wf['id']}/publish", json={})
    assert resp.json["status"] == "published" and resp.json["published_version"] == 2
    api.put(f"/api/workflows/{wf['id']}", json={**GRAPH, "name": "Third"})
    resp = api.get(f"/api/workflows/{wf['id']}")
    assert resp.json["has_unpublished_changes"] and resp.json["published_version"] == 2
    assert api.get(f"/api/workflows/{wf['id']}?version=1").json["graph"]["name"] == "Tag and note"
    versions = api.get(f"/api/workflows/{wf['id']}/versions").json
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[1]["published_at"] is not None


def test_invalid_graph_is_422_naming_step_and_field(as_user):
    bad = {**GRAPH, "steps": {**GRAPH["steps"], "b": {"type": "send_sms", "config": {}, "next": None}}}
    resp = as_user("admin").post("/api/workflows", json=bad)
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {"steps.b.config.message": ["Missing data for required field."]}
    assert "steps.b.config.message" in resp.json["error"]["message"]


def test_assign_user_must_name_users_of_the_account(as_user, users):
    graph = {**GRAPH, "steps": {"a": {"type": "assign_user", "config": {"user_ids": [users["agent"].id, 999]}}}}
    resp = as_user("admin").post("/api/workflows", json=graph)
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {"steps.a.config.user_ids": ["Unknown user id(s): 999."]}


def test_agents_cannot_edit_or_enroll(as_user):
    wf = create(as_user("admin"))
    agent = as_user("agent")
    assert agent.post("/api/workflows", json=GRAPH).status_code == 403
    assert agent.put(f"/api/workflows/{wf['id']}", json=GRAPH).status_code == 403
    assert agent.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": [1]}).status_code == 403
    assert agent.get(f"/api/workflows/{wf['id']}/executions").status_code == 403
    assert agent.get("/api/workflows").status_code == 200


def test_drafts_do_not_enroll_but_test_runs_do(app, as_user, account):
    api = as_user("admin")
    wf = create(api)
    contact = make_contact(account)
    resp = api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": [contact.id]})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"
    resp = api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": [contact.id], "test": True})
    assert resp.status_code == 202
    run_jobs(app)
    status = api.get(resp.json["status_url"]).json
    assert status["enrolled"] == 1 and status["finished_at"] is not None
    rows = api.get(f"/api/workflows/{wf['id']}/executions").json
    assert [(r["step_id"], r["outcome"], r["is_test"]) for r in rows] == [("a", "ok", True), ("b", "ok", True)]
    assert rows[1]["output"]["body"] == "Hello Ada"


def test_enroll_published_runs_and_logs(app, as_user, account):
    api = as_user("admin")
    wf = create(api)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(3)]
    resp = api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": [c.id for c in contacts]})
    assert resp.status_code == 202 and resp.json["total"] == 3
    run_jobs(app)
    assert db.session.scalar(select(func.count()).where(Enrollment.status == "completed")) == 3
    page = api.get(f"/api/workflows/{wf['id']}/executions?limit=4").json
    assert len(page) == 4
    rest = api.get(f"/api/workflows/{wf['id']}/executions?after_id={page[-1]['id']}").json
    assert len(rest) == 2
    one = api.get(f"/api/workflows/{wf['id']}/executions?contact_id={contacts[1].id}").json
    assert {r["contact_id"] for r in one} == {contacts[1].id}


def test_bulk_enroll_of_10000_answers_quickly_and_is_chunked(app, as_user, account):
    api = as_user("admin")
    wf = create(api)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    ids = list(range(1, 10_001))
    resp = api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": ids})
    assert resp.status_code == 202 and resp.json["total"] == 10_000
    from jobqueue.queues import get_queue

    # Chunked into one job per batch (ENROLL_CHUNK_SIZE is 50 in tests).
    assert get_queue().count == 200


def test_drip_spaces_batches_with_the_scheduler(app, as_user, account):
    from rq.registry import ScheduledJobRegistry

    from jobqueue.queues import get_queue

    api = as_user("admin")
    wf = create(api)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contacts = [make_contact(account) for _ in range(5)]
    resp = api.post(f"/api/workflows/{wf['id']}/enroll", json={
        "contact_ids": [c.id for c in contacts], "drip": {"batch_size": 2, "interval_seconds": 60}})
    assert resp.status_code == 202
    queue = get_queue()
    assert queue.count == 1  # batch 0 now
    registry = ScheduledJobRegistry(queue=queue)
    times = sorted(registry.get_scheduled_time(j) for j in registry.get_job_ids())
    assert len(times) == 2 and 55 <= (times[1] - times[0]).total_seconds() <= 65
    run_jobs(app)
    assert db.session.scalar(select(BulkEnrollment.processed)) == 2


def test_executions_row_fields(app, as_user, account):
    api = as_user("admin")
    wf = create(api)
    contact = make_contact(account)
    api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": [contact.id], "test": True})
    run_jobs(app)
    row = api.get(f"/api/workflows/{wf['id']}/executions").json[0]
    assert set(row) >= {"step_id", "step_type", "input", "outcome", "output", "error", "started_at", "duration_ms"}
    assert row["input"] == {"tag": "lead"}
    assert db.session.scalar(select(func.count()).select_from(ExecutionLog)) == 2


def test_action_types_lists_the_registry(as_user):
    types = {t["type"]: t for t in as_user("agent").get("/api/workflows/action-types").json}
    assert {"assign_user", "send_sms", "manual_sms", "manual_call", "wait", "if_else", "goto", "end"} <= set(types)
    assert types["manual_sms"]["category"] == "Communication" and types["wait"]["pauses"]
