"""Workflow templates over the API: the gallery, drafts from a template, account templates (admins)."""

from __future__ import annotations

from builder.domain.workflow_templates import builtin_templates
from builder.extensions import db
from builder.models import Workflow, WorkflowTemplate
from tests.factories import ApiClient, make_outsider, make_workflow

GALLERY = "/api/workflow-templates"
FROM_TEMPLATE = "/api/workflows/from-template"


def assigning(users) -> dict:
    return {"name": "Round robin", "start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent"].id]}, "next": "b"},
        "b": {"type": "manual_call", "config": {}, "next": None}}}


def graph_of(workflow_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(Workflow, workflow_id).latest_version().graph


def test_editors_see_the_six_built_in_templates_with_their_steps(app, users, as_user):
    resp = as_user("manager").get(GALLERY)
    assert resp.status_code == 200
    cards = resp.json
    assert [c["id"] for c in cards] == [f"builtin:{slug}" for slug in builtin_templates()]
    speed = cards[0]
    assert speed["name"] == "Speed to lead" and speed["kind"] == "builtin" and speed["description"]
    assert speed["steps"] == ["Send SMS", "Manual Action: Call", "Add Contact Tag"]
    assert speed["trigger"]["type"] == "contact_created"


def test_each_built_in_template_opens_as_a_draft(app, users, as_user):
    for slug, template in builtin_templates().items():
        resp = as_user("manager").post(FROM_TEMPLATE, json={"template": f"builtin:{slug}"})
        assert resp.status_code == 201, resp.json
        body = resp.json
        assert (body["name"], body["status"], body["version"]) == (template["name"], "draft", 1)
        assert graph_of(body["id"]) == template["graph"]


def test_a_template_draft_takes_the_name_given(app, users, as_user):
    resp = as_user("admin").post(FROM_TEMPLATE, json={"template": "builtin:review-request", "name": "Reviews (NY)"})
    assert resp.status_code == 201
    assert resp.json["name"] == "Reviews (NY)" and graph_of(resp.json["id"])["name"] == "Reviews (NY)"
    # The account has no contact with these tags yet: said, not refused.
    assert [(r["step"], r["field"], r["change"]) for r in resp.json["remapped"]] == [
        (None, "trigger.config.tag", "new_tag"), ("reviewed", "config.branches.0.conditions.0.value", "new_tag")]
    assert "job-completed" in resp.json["remapped"][0]["message"]


BAD_REFERENCES = [
    ({"template": "builtin:nope"}, 404, None),
    ({"template": 999}, 404, None),
    ({"template": ""}, 422, "template"),
    ({"template": True}, 422, "template"),
    ({"template": "speed-to-lead"}, 422, "template"),
    ({}, 422, "template"),
    ({"template": "builtin:speed-to-lead", "name": ""}, 422, "name"),
]


def test_a_bad_template_reference_is_refused(app, users, as_user):
    admin = as_user("admin")
    for body, status, field in BAD_REFERENCES:
        resp = admin.post(FROM_TEMPLATE, json=body)
        assert resp.status_code == status, (body, resp.json)
        if field:
            assert field in resp.json["error"]["fields"], body
    assert db.session.scalar(db.select(db.func.count()).select_from(Workflow)) == 0


def test_admins_save_a_workflow_as_an_account_template_and_start_from_it(app, account, users, as_user):
    wf = make_workflow(account, assigning(users))
    resp = as_user("admin").post(f"/api/workflows/{wf.id}/save-as-template",
                                 json={"name": "Our call flow", "description": "Assign, then call."})
    assert resp.status_code == 201, resp.json
    card = resp.json
    assert (card["kind"], card["name"], card["steps"]) == ("account", "Our call flow",
                                                           ["Assign To User", "Manual Action: Call"])
    stored = db.session.get(WorkflowTemplate, card["id"])
    assert stored.graph["steps"]["a"]["config"]["user_ids"] == ["agent@acme.test"]  # kept by email
    assert stored.created_by_id == users["admin"].id

    listed = as_user("manager").get(GALLERY).json
    assert listed[-1]["id"] == card["id"] and listed[-1]["description"] == "Assign, then call."

    draft = as_user("manager").post(FROM_TEMPLATE, json={"template": card["id"]})
    assert draft.status_code == 201 and draft.json["remapped"] == []
    assert graph_of(draft.json["id"])["steps"] == graph_of(wf.id)["steps"]
    assert as_user("manager").post(FROM_TEMPLATE, json={"template": str(card["id"])}).status_code == 201


def test_saving_defaults_to_the_workflows_name(app, account, users, as_user):
    wf = make_workflow(account, assigning(users))
    resp = as_user("admin").post(f"/api/workflows/{wf.id}/save-as-template", json={})
    assert resp.status_code == 201 and resp.json["name"] == "Round robin" and resp.json["description"] == ""


def test_admins_delete_account_templates_only(app, account, users, as_user):
    wf = make_workflow(account, assigning(users))
    template_id = as_user("admin").post(f"/api/workflows/{wf.id}/save-as-template", json={}).json["id"]
    assert as_user("admin").delete(f"{GALLERY}/{template_id}").status_code == 204
    assert db.session.get(WorkflowTemplate, template_id) is None
    assert as_user("admin").delete(f"{GALLERY}/{template_id}").status_code == 404
    assert as_user("admin").delete(f"{GALLERY}/builtin:speed-to-lead").status_code == 404
    assert len(as_user("admin").get(GALLERY).json) == len(builtin_templates())


def test_only_admins_manage_templates_and_agents_see_none(app, account, users, as_user):
    wf = make_workflow(account, assigning(users))
    template_id = as_user("admin").post(f"/api/workflows/{wf.id}/save-as-template", json={}).json["id"]
    for role in ("manager", "agent"):
        assert as_user(role).post(f"/api/workflows/{wf.id}/save-as-template", json={}).status_code == 403
        assert as_user(role).delete(f"{GALLERY}/{template_id}").status_code == 403
    assert as_user("agent").get(GALLERY).status_code == 403
    assert as_user("agent").post(FROM_TEMPLATE, json={"template": "builtin:speed-to-lead"}).status_code == 403
    assert db.session.get(WorkflowTemplate, template_id) is not None


def test_another_accounts_templates_stay_out_of_reach(app, account, users, as_user):
    wf = make_workflow(account, assigning(users))
    template_id = as_user("admin").post(f"/api/workflows/{wf.id}/save-as-template", json={}).json["id"]
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    assert [c["kind"] for c in outsider.get(GALLERY).json] == ["builtin"] * len(builtin_templates())
    assert outsider.post(FROM_TEMPLATE, json={"template": template_id}).status_code == 404
    assert outsider.delete(f"{GALLERY}/{template_id}").status_code == 404
    assert outsider.post(f"/api/workflows/{wf.id}/save-as-template", json={}).status_code == 404
    assert db.session.get(WorkflowTemplate, template_id) is not None
