"""Add to / Remove from Workflow through the API: a workflow naming itself is refused on save (422 naming
the step and field), and publishing refuses a loop of workflows handing contacts round with no wait in it
(422 naming the workflows and the step), read from the other workflows' published graphs."""

from __future__ import annotations


def graph(name, *steps, start="s0"):
    """Steps s0, s1, ... in a line."""
    chain = {f"s{i}": {**step, "next": f"s{i + 1}" if i + 1 < len(steps) else None} for i, step in enumerate(steps)}
    return {"name": name, "start": start, "steps": chain}


def add_to(workflow_id, **config):
    return {"type": "add_to_workflow", "config": {"workflow_id": workflow_id, **config}}


TAG = {"type": "add_tag", "config": {"tag": "x"}}
WAIT = {"type": "wait", "config": {"amount": 1, "unit": "minutes"}}


def create(api, body):
    resp = api.post("/api/workflows", json=body)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def test_a_workflow_cannot_add_contacts_to_itself(as_user):
    api = as_user("manager")
    wf = create(api, graph("A", TAG))
    resp = api.put(f"/api/workflows/{wf}", json=graph("A", TAG, add_to(wf)))
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {
        "steps.s1.config.workflow_id": ["Step s1 adds contacts to its own workflow; choose another workflow."]}


def test_a_workflow_cannot_choose_itself_to_remove_from(as_user):
    api = as_user("manager")
    wf = create(api, graph("A", TAG))
    other = create(api, graph("B", TAG))
    step = {"type": "remove_from_workflow", "config": {"target": "chosen", "workflow_ids": [other, wf]}}
    resp = api.put(f"/api/workflows/{wf}", json=graph("A", step))
    assert resp.status_code == 422
    assert list(resp.json["error"]["fields"]) == ["steps.s0.config.workflow_ids"]
    step["config"]["workflow_ids"] = [other]
    assert api.put(f"/api/workflows/{wf}", json=graph("A", step)).status_code == 200


def test_a_loop_of_workflows_with_no_wait_is_refused_on_publish(as_user):
    api = as_user("manager")
    a = create(api, graph("A", TAG))
    b = create(api, graph("B", TAG, add_to(a)))
    assert api.post(f"/api/workflows/{b}/publish", json={}).status_code == 200  # A is not live yet: no loop
    assert api.put(f"/api/workflows/{a}", json=graph("A", TAG, add_to(b, end_this_workflow=True))).status_code == 200
    resp = api.post(f"/api/workflows/{a}/publish", json={})
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {"steps.s1.config.workflow_id": [
        "Workflows 'A' (step s1) -> 'B' (step s1) -> 'A' hand contacts round in a loop with no wait in it; "
        "add a wait step on the way."]}
    # A wait anywhere on the way breaks the loop.
    assert api.put(f"/api/workflows/{a}", json=graph("A", WAIT, add_to(b))).status_code == 200
    assert api.post(f"/api/workflows/{a}/publish", json={}).status_code == 200


def test_a_loop_through_three_workflows_names_them_all(as_user):
    api = as_user("manager")
    a = create(api, graph("A", TAG))
    c = create(api, graph("C", add_to(a)))
    b = create(api, graph("B", add_to(c)))
    for wf in (b, c):
        assert api.post(f"/api/workflows/{wf}/publish", json={}).status_code == 200
    api.put(f"/api/workflows/{a}", json=graph("A", TAG, add_to(b)))
    resp = api.post(f"/api/workflows/{a}/publish", json={})
    assert resp.status_code == 422
    [message] = resp.json["error"]["fields"]["steps.s1.config.workflow_id"]
    assert message.startswith("Workflows 'A' (step s1) -> 'B' (step s0) -> 'C' (step s0) -> 'A' ")


def test_handing_on_without_a_way_back_publishes(as_user):
    api = as_user("manager")
    b = create(api, graph("B", TAG))
    a = create(api, graph("A", add_to(b), TAG))
    assert api.post(f"/api/workflows/{b}/publish", json={}).status_code == 200
    assert api.post(f"/api/workflows/{a}/publish", json={}).status_code == 200
