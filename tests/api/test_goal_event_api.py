"""Goal Event and Wait "until an event" through the workflows API: a bad config is a 422 naming the step
and the field; a good one is saved as given, and the action types list offers both."""

import pytest

GOOD = {"type": "goal_event", "config": {"goal": "tag_added", "tag": "bought", "if_not_met": "wait"}, "next": None}


def graph(step: dict) -> dict:
    return {"name": "Goals", "start": "g", "steps": {"g": step}}


@pytest.mark.parametrize(("step", "field", "message"), [
    ({"type": "goal_event", "config": {"goal": "tag_added"}}, "steps.g.config.tag", "Give the tag to watch for."),
    ({"type": "goal_event", "config": {"goal": "field_condition"}}, "steps.g.config.condition",
     "Give the contact field condition to watch for."),
    ({"type": "goal_event", "config": {"goal": "purchase"}}, "steps.g.config.goal", None),
    ({"type": "goal_event", "config": {"goal": "replied", "if_not_met": "later"}}, "steps.g.config.if_not_met", None),
    ({"type": "wait", "config": {"mode": "event", "event": "replied"}}, "steps.g.config.timeout_amount",
     "Waiting for an event needs a timeout."),
    ({"type": "wait", "config": {"mode": "event", "event": "field_condition", "timeout_amount": 1,
                                 "timeout_unit": "hours"}}, "steps.g.config.event_condition", None),
])
def test_a_bad_config_is_a_422_naming_step_and_field(as_user, step, field, message):
    resp = as_user("manager").post("/api/workflows", json=graph({**step, "next": None}))
    assert resp.status_code == 422, resp.json
    fields = resp.json["error"]["fields"]
    assert field in fields, fields
    if message:
        assert fields[field] == [message]


def test_good_configs_are_saved_and_offered(as_user):
    api = as_user("manager")
    resp = api.post("/api/workflows", json=graph(GOOD))
    assert resp.status_code == 201, resp.json
    assert resp.json["graph"]["steps"]["g"]["config"] == GOOD["config"]
    wait = {"type": "wait", "config": {"mode": "event", "event": "replied", "timeout_amount": 3, "timeout_unit": "days",
                                       "event_next": None, "timeout_next": None}, "next": None}
    resp = api.post("/api/workflows", json=graph(wait))
    assert resp.status_code == 201, resp.json
    assert resp.json["graph"]["steps"]["g"]["config"] == {**wait["config"], "unit": "minutes"}  # delay's default
    types = {t["type"]: t for t in api.get("/api/workflows/action-types").json}
    assert types["goal_event"]["label"] == "Goal Event"
    assert types["wait"]["exits"]["cases"]["event"]["exits"][0] == {"field": "event_next", "label": "Event happened"}
