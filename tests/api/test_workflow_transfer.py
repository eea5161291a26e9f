"""Workflow export and import over the API: the file, users by email, the remap report, bad files, roles."""

from __future__ import annotations

import io
import json

import pytest

from builder.extensions import db
from builder.models import Workflow, WorkflowVersion
from tests.factories import ApiClient, make_contact, make_outsider, make_workflow


def flow(users) -> dict:
    return {
        "name": "Hot leads", "trigger": {"type": "contact_tag_added", "config": {"tag": "hot"}},
        "settings": {"allow_reentry": True, "send_window": {"days": ["mon"], "start": "09:00", "end": "17:00"}},
        "start": "assign", "steps": {
            "assign": {"type": "assign_user", "name": "Share out",
                       "config": {"user_ids": [users["agent"].id, users["agent2"].id], "split": "weighted",
                                  "weights": [3, 1]}, "next": "mine"},
            "mine": {"type": "if_else", "config": {"branches": [{"name": "Alex's", "next": "hello", "conditions": [
                {"field": "contact.assigned_user_id", "op": "equals", "value": users["agent"].id}]}]}},
            "hello": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None},
        }}


def latest_graph(workflow_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(Workflow, workflow_id).latest_version().graph


def test_the_file_names_users_by_email_and_imports_back_unchanged(app, account, users, as_user):
    wf = make_workflow(account, flow(users))
    make_contact(account, tags=["HOT"])  # the trigger's tag is one the account uses: nothing to report
    resp = as_user("manager").get(f"/api/workflows/{wf.id}/export")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == 'attachment; filename="hot-leads.flowdesk.json"'
    document = resp.json
    assert (document["format"], document["version"], document["name"]) == ("flowdesk.workflow", 1, "Hot leads")
    assert document["exported_at"].endswith("Z")
    steps = document["graph"]["steps"]
    assert steps["assign"]["config"]["user_ids"] == ["agent@acme.test", "agent2@acme.test"]
    assert steps["mine"]["config"]["branches"][0]["conditions"][0]["value"] == "agent@acme.test"
    assert document["graph"]["settings"]["send_window"]["days"] == ["mon"]

    imported = as_user("admin").post("/api/workflows/import", json=document)
    assert imported.status_code == 201, imported.json
    body = imported.json
    assert body["status"] == "draft" and body["version"] == 1 and body["remapped"] == []
    assert body["id"] != wf.id
    assert latest_graph(body["id"]) == latest_graph(wf.id)


def test_importing_into_another_account_reports_what_it_could_not_map(app, account, users, as_user):
    wf = make_workflow(account, flow(users))
    document = as_user("admin").get(f"/api/workflows/{wf.id}/export").json
    outsider = make_outsider("admin")
    resp = ApiClient(app.test_client(), outsider).post("/api/workflows/import", json=document)
    assert resp.status_code == 201, resp.json
    changes = {(r["step"], r["field"], r["change"]) for r in resp.json["remapped"]}
    assert changes == {
        ("assign", "config.user_ids", "user_dropped"),
        ("assign", "config.user_ids", "step_unassigned"),
        ("mine", "config.branches.0.conditions.0.value", "user_condition_unmatched"),
        (None, "trigger.config.tag", "new_tag"),
    }
    graph = latest_graph(resp.json["id"])
    assert graph["steps"]["assign"]["type"] == "goto" and graph["steps"]["assign"]["config"] == {"target": "mine"}
    assert "agent@acme.test" in json.dumps(graph)  # the condition keeps the email: it matches nobody here
    assert db.session.get(Workflow, resp.json["id"]).account_id == outsider.account_id


def test_a_file_can_be_uploaded_and_renamed(app, account, users, as_user):
    wf = make_workflow(account, flow(users))
    document = as_user("admin").get(f"/api/workflows/{wf.id}/export").get_data()
    resp = as_user("manager").post("/api/workflows/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(document), "hot-leads.flowdesk.json"), "name": "Hot leads (imported)"})
    assert resp.status_code == 201, resp.json
    assert resp.json["name"] == "Hot leads (imported)"
    assert latest_graph(resp.json["id"])["steps"] == latest_graph(wf.id)["steps"]


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "zapier"}, "format"),
    ({"version": 7}, "version"),
    ({"graph": None}, "graph"),
    ({"graph": {"start": "a", "steps": {"a": {"type": "send_sms", "config": {}, "next": None}}}},
     "graph.steps.a.config.message"),
    ({"graph": {"start": "a", "steps": {"a": {"type": "wait", "config": {"amount": 0}, "next": "b"}}}},
     "graph.steps.a.config.amount"),
])
def test_a_bad_file_is_a_422_naming_the_step_and_field(app, account, users, as_user, change, field):
    document = {"format": "flowdesk.workflow", "version": 1, "name": "Bad", "graph": {"start": None, "steps": {}},
                **change}
    resp = as_user("admin").post("/api/workflows/import", json=document)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["fields"]
    assert resp.json["error"]["message"].startswith(field)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowVersion)) == 0


def test_an_upload_that_is_not_json_or_no_file_is_a_422_on_the_file(app, users, as_user):
    resp = as_user("admin").post("/api/workflows/import", content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(b"<xml/>"), "flow.json")})
    assert resp.status_code == 422 and "file" in resp.json["error"]["fields"]
    resp = as_user("admin").post("/api/workflows/import", content_type="multipart/form-data", data={"name": "X"})
    assert resp.status_code == 422 and "file" in resp.json["error"]["fields"]


def test_agents_may_neither_export_nor_import(app, account, users, as_user):
    wf = make_workflow(account, flow(users))
    assert as_user("agent").get(f"/api/workflows/{wf.id}/export").status_code == 403
    document = as_user("admin").get(f"/api/workflows/{wf.id}/export").json
    assert as_user("agent").post("/api/workflows/import", json=document).status_code == 403


def test_another_accounts_workflow_cannot_be_exported(app, account, users):
    wf = make_workflow(account, flow(users))
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    assert outsider.get(f"/api/workflows/{wf.id}/export").status_code == 404
