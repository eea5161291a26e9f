"""The workflow graph schema (v1): what loads, and path-keyed errors for what does not."""

import copy
import json

import pytest
from marshmallow import ValidationError

from engine.graph import Graph, load_graph

# The example graph of ARCHITECTURE.md, as written there.
EXAMPLE = {
    "name": "New lead follow-up",
    "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
    "start": "s1",
    "steps": {
        "s1": {"type": "assign_user", "config": {"user_ids": [1, 2], "only_unassigned": True}, "next": "s2"},
        "s2": {"type": "manual_sms", "name": "Manual follow-up SMS",
               "config": {"message": "Hi {{ contact.first_name }}, thanks for reaching out!"}, "next": "s3"},
        "s3": {"type": "if_else", "config": {"branches": [
            {"name": "Has email", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "s4"}],
            "else_next": None}},
        "s4": {"type": "add_tag", "config": {"tag": "followed-up"}, "next": None},
    },
}


def one_step(step_type, config=None, **step):
    return {"name": "One step", "start": "s1", "steps": {"s1": {"type": step_type, "config": config or {}, **step}}}


def errors_of(raw):
    with pytest.raises(ValidationError) as caught:
        load_graph(raw)
    return caught.value.messages


def test_example_graph_loads_with_defaults_filled_in():
    data = load_graph(copy.deepcopy(EXAMPLE))
    assert data["schema_version"] == 1
    assert data["settings"] == {"allow_reentry": False, "stop_on_response": False}
    assert data["trigger"] == {"type": "contact_tag_added", "config": {"tag": "new-lead"}}
    assert data["steps"]["s1"]["config"] == {
        "user_ids": [1, 2], "only_unassigned": True, "split": "equal", "weights": None,
    }
    assert data["steps"]["s2"]["config"]["continue_without_waiting"] is False
    assert data["steps"]["s3"]["config"]["branches"][0]["match"] == "all"
    assert data["steps"]["s1"]["name"] == "" and data["steps"]["s2"]["name"] == "Manual follow-up SMS"
    graph = Graph.from_dict(data)
    assert graph.reachable() == {"s1", "s2", "s3", "s4"} and graph.cycle_without_pause() is None


def test_loaded_graph_is_plain_json_and_loads_again_unchanged():
    # Versions are stored in a JSON column and loaded again on every save.
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s4"]["next"] = "s5"
    raw["steps"]["s5"] = {"type": "wait", "config": {"mode": "until", "until": "2031-03-01T09:30"}, "next": None}
    data = load_graph(raw)
    assert data["steps"]["s5"]["config"]["until"] == "2031-03-01T09:30:00"
    assert load_graph(json.loads(json.dumps(data))) == data


def test_empty_workflow_is_allowed():
    assert load_graph({"name": "Empty", "start": None, "steps": {}})["steps"] == {}


def test_trigger_defaults_to_manual():
    assert load_graph(one_step("end"))["trigger"] == {"type": "manual", "config": {}}


# --- structure ------------------------------------------------------------

def test_unknown_type_names_step_and_field():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s4"]["next"] = "s9"
    raw["steps"]["s9"] = {"type": "send_fax", "config": {}}
    errors = errors_of(raw)
    assert errors == {"steps.s9.type": ["Unknown action type 'send_fax'."]}


def test_dangling_next():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s1"]["next"] = "nowhere"
    errors = errors_of(raw)
    assert list(errors) == ["steps.s1.next"]
    assert "s1" in errors["steps.s1.next"][0] and "'nowhere'" in errors["steps.s1.next"][0]


def test_dangling_branch_target_names_the_branch():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s3"]["config"]["branches"][0]["next"] = "gone"
    raw["steps"]["s3"]["config"]["else_next"] = "also-gone"
    raw["steps"]["s4"] = {"type": "end"}
    errors = errors_of(raw)
    assert set(errors) == {"steps.s3.config.branches.0.next", "steps.s3.config.else_next"}


def test_dangling_goto_target():
    assert list(errors_of(one_step("goto", {"target": "s7"}))) == ["steps.s1.config.target"]


def test_missing_start():
    raw = copy.deepcopy(EXAMPLE)
    del raw["start"]
    assert errors_of(raw) == {"start": ["Missing data for required field."]}


def test_start_pointing_nowhere():
    raw = {**copy.deepcopy(EXAMPLE), "start": "s0"}
    assert errors_of(raw) == {"start": ["Start step 's0' does not exist."]}


def test_steps_without_a_start():
    raw = {**copy.deepcopy(EXAMPLE), "start": None}
    assert list(errors_of(raw)) == ["start"]


def test_unreachable_step():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["orphan"] = {"type": "add_tag", "config": {"tag": "x"}, "next": "s4"}
    errors = errors_of(raw)
    assert errors == {"steps.orphan": ["Step orphan cannot be reached from the start step."]}


def test_step_after_end_is_unreachable():
    raw = {"name": "x", "start": "a", "steps": {
        "a": {"type": "end", "next": "b"}, "b": {"type": "add_tag", "config": {"tag": "t"}}}}
    assert list(errors_of(raw)) == ["steps.b"]


def loop(middle_type, middle_config):
    return {"name": "Loop", "start": "a", "steps": {
        "a": {"type": "add_tag", "config": {"tag": "looped"}, "next": "b"},
        "b": {"type": middle_type, "config": middle_config, "next": "c"},
        "c": {"type": "goto", "config": {"target": "a"}},
    }}


def test_loop_of_instant_steps_is_rejected():
    assert errors_of(loop("add_note", {"body": "again"})) == {
        "steps.a": ["Steps a -> b -> c -> a form a loop with no wait in it; add a wait step."]
    }


def test_goto_to_itself_is_rejected():
    errors = errors_of(one_step("goto", {"target": "s1"}))
    assert list(errors) == ["steps.s1"] and "loop" in errors["steps.s1"][0]


def test_loop_through_a_delay_wait_is_accepted():
    data = load_graph(loop("wait", {"amount": 1, "unit": "days"}))
    assert Graph.from_dict(data).cycle_without_pause() is None


def test_loop_through_a_parking_manual_step_is_accepted():
    load_graph(loop("manual_call", {}))


@pytest.mark.parametrize("middle_type, middle_config", [
    # Once its date has passed a wait "until" goes straight on: it cannot break a loop.
    ("wait", {"mode": "until", "until": "2030-01-01T09:00"}),
    # A manual step that does not wait would queue a task on every turn.
    ("manual_sms", {"message": "hi", "continue_without_waiting": True}),
])
def test_loop_through_a_step_that_may_not_pause_is_rejected(middle_type, middle_config):
    errors = errors_of(loop(middle_type, middle_config))
    assert len(errors) == 1 and "loop" in next(iter(errors.values()))[0]


# --- configs of each action type ------------------------------------------

BAD_CONFIGS = [
    ("send_sms", {}, "message"),
    ("send_sms", {"message": ""}, "message"),
    ("send_sms", {"message": "x" * 1601}, "message"),
    ("send_sms", {"message": "hi", "msg": "hi"}, "msg"),
    ("send_sms", {"message": "Hi {{ contact.first_name }"}, "message"),
    ("send_sms", {"message": "Hi {{ contact.__class__ }}"}, "message"),
    ("manual_sms", {"message": "{% if contact.email %}unclosed"}, "message"),
    ("manual_sms", {"continue_without_waiting": "sometimes"}, "continue_without_waiting"),
    ("manual_call", {"script": "hello"}, "script"),
    ("assign_user", {"user_ids": [1, 2], "split": "weighted", "weights": [3]}, "weights"),
    ("assign_user", {"user_ids": [1, 2], "split": "weighted"}, "weights"),
    ("assign_user", {"user_ids": [1, 2], "split": "weighted", "weights": [3, 0]}, "weights.1"),
    ("assign_user", {"user_ids": []}, "user_ids"),
    ("assign_user", {"user_ids": [1, 1]}, "user_ids"),
    ("assign_user", {"user_ids": ["1"]}, "user_ids.0"),
    ("assign_user", {"user_ids": [1], "split": "random"}, "split"),
    ("wait", {"mode": "until"}, "until"),
    ("wait", {"mode": "until", "until": "next tuesday"}, "until"),
    ("wait", {"mode": "until", "until": "2030-01-01T09:00:00+02:00"}, "until"),
    ("wait", {}, "amount"),
    ("wait", {"amount": 0}, "amount"),
    ("wait", {"amount": 5, "unit": "fortnights"}, "unit"),
    ("wait", {"mode": "forever"}, "mode"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.email", "op": "resembles", "value": "x"}]}]},
     "branches.0.conditions.0.op"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.email", "op": "equals"}]}]},
     "branches.0.conditions.0.value"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.email", "op": "contains", "value": ""}]}]},
     "branches.0.conditions.0.value"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.custom.score", "op": "greater_than",
                                               "value": "lots"}]}]}, "branches.0.conditions.0.value"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.password", "op": "is_empty"}]}]},
     "branches.0.conditions.0.field"),
    ("if_else", {"branches": [{"conditions": [{"field": "first_name", "op": "is_empty"}]}]},
     "branches.0.conditions.0.field"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.email", "op": "has_tag", "value": "vip"}]}]},
     "branches.0.conditions.0.op"),
    ("if_else", {"branches": [{"conditions": [{"field": "contact.tags", "op": "contains", "value": "vip"}]}]},
     "branches.0.conditions.0.op"),
    ("if_else", {"branches": [{"conditions": []}]}, "branches.0.conditions"),
    ("if_else", {"branches": [{"match": "most", "conditions": [{"field": "contact.tags", "op": "is_empty"}]}]},
     "branches.0.match"),
    ("if_else", {"branches": []}, "branches"),
    ("if_else", {}, "branches"),
    ("update_contact_field", {"field": "phone", "value": "+12025550123"}, "field"),
    ("update_contact_field", {"field": "custom.bad-key", "value": "x"}, "field"),
    ("update_contact_field", {"field": "custom.", "value": "x"}, "field"),
    ("update_contact_field", {"field": "first_name"}, "value"),
    ("update_contact_field", {"field": "first_name", "value": "{{ contact.first_name | nope }}"}, "value"),
    ("add_tag", {}, "tag"),
    ("add_tag", {"tag": ""}, "tag"),
    ("add_tag", {"tag": "t" * 101}, "tag"),
    ("remove_tag", {"tag": "{{ broken"}, "tag"),
    ("add_note", {}, "body"),
    ("add_note", {"body": "Called {{ contact.first_name }"}, "body"),
    ("goto", {}, "target"),
    ("goto", {"target": "bad id"}, "target"),
    ("end", {"reason": "done"}, "reason"),
]


@pytest.mark.parametrize("step_type, config, field", BAD_CONFIGS,
                         ids=[f"{t}-{f}-{i}" for i, (t, _, f) in enumerate(BAD_CONFIGS)])
def test_bad_config_names_step_and_field(step_type, config, field):
    errors = errors_of(one_step(step_type, config))
    assert f"steps.s1.config.{field}" in errors, errors


def test_merge_field_syntax_error_says_so():
    errors = errors_of(one_step("send_sms", {"message": "Hi {{ contact.first_name }"}))
    assert errors["steps.s1.config.message"][0].startswith("Merge field error: line 1:")


def test_config_must_be_an_object():
    raw = {"name": "x", "start": "s1", "steps": {"s1": {"type": "end", "config": []}}}
    assert list(errors_of(raw)) == ["steps.s1.config"]


def test_errors_of_several_steps_come_together():
    raw = {"name": "x", "start": "a", "steps": {
        "a": {"type": "send_sms", "config": {}, "next": "b"},
        "b": {"type": "wait", "config": {"mode": "until"}},
    }}
    assert set(errors_of(raw)) == {"steps.a.config.message", "steps.b.config.until"}


# --- top level and step level ---------------------------------------------

def test_unknown_top_level_key():
    assert errors_of({**copy.deepcopy(EXAMPLE), "colour": "blue"}) == {"colour": ["Unknown field."]}


def test_unknown_step_key():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s4"]["colour"] = "blue"
    assert errors_of(raw) == {"steps.s4.colour": ["Unknown field."]}


def test_step_must_be_an_object():
    raw = copy.deepcopy(EXAMPLE)
    raw["steps"]["s4"] = "add_tag"
    assert list(errors_of(raw)) == ["steps.s4"]


@pytest.mark.parametrize("version", [2, 0, "one"])
def test_other_schema_versions_are_rejected(version):
    assert list(errors_of({**copy.deepcopy(EXAMPLE), "schema_version": version})) == ["schema_version"]


def test_schema_version_1_is_accepted():
    assert load_graph({**copy.deepcopy(EXAMPLE), "schema_version": 1})["schema_version"] == 1


@pytest.mark.parametrize("step_id", ["s 1", "s.1", "s1\n", "", "x" * 65, "étape", "s/1"])
def test_step_ids_with_bad_characters(step_id):
    raw = {"name": "x", "start": step_id, "steps": {step_id: {"type": "end"}}}
    errors = errors_of(raw)
    assert errors == {f"steps.{step_id}": ["Step ids are 1-64 letters, digits, '-' or '_'."]}


def test_step_id_of_64_characters_is_fine():
    sid = "a" * 64
    assert sid in load_graph({"name": "x", "start": sid, "steps": {sid: {"type": "end"}}})["steps"]


@pytest.mark.parametrize("raw, path", [
    ({"start": None, "steps": {}}, "name"),
    ({"name": "", "start": None, "steps": {}}, "name"),
    ({"name": "x", "start": None}, "steps"),
    ({"name": "x", "start": None, "steps": []}, "steps"),
    ({"name": "x", "start": None, "steps": {}, "trigger": {"type": "moon_phase"}}, "trigger.type"),
    ({"name": "x", "start": None, "steps": {}, "settings": {"allow_reentry": "maybe"}}, "settings.allow_reentry"),
    ({"name": "x", "start": None, "steps": {}, "settings": {"turbo": True}}, "settings.turbo"),
])
def test_top_level_fields(raw, path):
    assert path in errors_of(raw)


def test_graph_must_be_an_object():
    assert errors_of(["not", "a", "graph"]) == {"_schema": ["The workflow graph must be a JSON object."]}


def test_trigger_configs_are_validated_per_type():
    base = {"name": "t", "start": None, "steps": {}}
    assert load_graph({**base, "trigger": {"type": "contact_tag_added", "config": {"tag": "vip"}}})["trigger"] == {
        "type": "contact_tag_added", "config": {"tag": "vip"}}
    with pytest.raises(ValidationError) as exc:
        load_graph({**base, "trigger": {"type": "contact_tag_added", "config": {}}})
    assert exc.value.messages == {"trigger.config.tag": ["Missing data for required field."]}
    with pytest.raises(ValidationError) as exc:
        load_graph({**base, "trigger": {"type": "contact_created", "config": {"tag": "x"}}})
    assert exc.value.messages == {"trigger.config.tag": ["Unknown field."]}
    replied = load_graph({**base, "trigger": {"type": "customer_replied", "config": {}}})
    assert replied["trigger"]["config"] == {"keywords": []}
