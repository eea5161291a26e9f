"""Run variables through the API: saving refuses a step that reads a step which may not have run before
it (a 422 naming both), and the action-types catalog tells the builder what each step's output offers."""

from __future__ import annotations

from builder.extensions import db
from builder.models import Workflow
from tests.factories import make_workflow


def branching_flow(message: str) -> dict:
    """s1 branches to s2 (a webhook) or straight to s3; s3 sends `message`."""
    return {"name": "Order follow-up", "start": "s1", "steps": {
        "s1": {"type": "if_else", "config": {"branches": [
            {"name": "Has email", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "s2"}],
            "else_next": "s3"}},
        "s2": {"type": "webhook", "name": "Order lookup", "config": {"url": "https://example.com/orders"},
               "next": "s3"},
        "s3": {"type": "send_sms", "name": "Order text", "config": {"message": message}, "next": None},
    }}


def test_a_reference_to_a_step_that_may_not_have_run_is_a_422_naming_both_steps(app, account, users, as_user):
    wf = make_workflow(account, branching_flow("Thanks!"), publish=False)
    resp = as_user("manager").put(f"/api/workflows/{wf.id}",
                                  json=branching_flow("Your order {{ steps.s2.body.order_id }}"))
    assert resp.status_code == 422
    error = resp.json["error"]
    assert list(error["fields"]) == ["steps.s3.config.message"]
    [message] = error["fields"]["steps.s3.config.message"]
    assert message == ("steps.s2.body.order_id: step s2 (Order lookup) may not have run before step s3 (Order text): "
                       "not every path from the start to s3 passes through s2.")
    assert error["message"].startswith("steps.s3.config.message: steps.s2.body.order_id: step s2")
    db.session.expire_all()
    assert len(db.session.get(Workflow, wf.id).versions) == 1  # nothing saved


def test_a_reference_to_a_step_on_every_path_saves(app, account, users, as_user):
    flow = branching_flow("Hi")
    flow["steps"]["s1"]["config"]["else_next"] = "s2"  # both branches now pass through the webhook
    flow["steps"]["s1"]["config"]["branches"][0]["next"] = "s2"
    flow["steps"]["s3"]["config"]["message"] = "Order {{ steps.s2.body.order_id }} ({{ steps.s2.status }})"
    resp = as_user("manager").post("/api/workflows", json=flow)
    assert resp.status_code == 201, resp.json


def test_unknown_steps_are_a_422_too(app, account, users, as_user):
    resp = as_user("manager").post("/api/workflows", json=branching_flow("{{ steps.s9.status }}"))
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {
        "steps.s3.config.message": ["steps.s9.status: there is no step 's9' in this workflow."]}


def test_action_types_declare_their_outputs(app, users, as_user):
    resp = as_user("agent").get("/api/workflows/action-types")
    assert resp.status_code == 200
    outputs = {t["type"]: t["outputs"] for t in resp.json}
    assert {k: v for k, v in outputs["webhook"].items() if k != "error"} == {
        "status": "Response status", "body": "Response body", "headers": "Response headers"}
    assert outputs["webhook"]["error"]  # steps with an On failure exit offer the failure's reason
    assert outputs["find_contact"]["found"] and outputs["find_contact"]["contact.first_name"]
    assert set(outputs["call"]) == {"outcome", "duration_seconds", "error"}
    assert outputs["add_task"]["task_id"] and outputs["add_note"] == {}
