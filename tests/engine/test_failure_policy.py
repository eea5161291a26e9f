"""The retry policy and "On failure" exit of the steps that reach outside: what the graph schema accepts and
refuses (422 naming the step and field), the defaults that keep saved graphs as they were, and the
interpreter's failure exit with the error as a run variable."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from engine.actions.failures import may_retry, retry_delay, retry_policy
from engine.graph import Graph, load_graph

OUTSIDE = {
    "send_sms": {"message": "Hi"},
    "send_email": {"subject": "Hi", "text_body": "Hello"},
    "webhook": {"url": "https://example.com/hook"},
    "send_slack_message": {"text": "Hi"},
    "call": {},
}


def graph_with(step_type: str, **config) -> dict:
    return {"name": "G", "start": "s1", "steps": {
        "s1": {"type": step_type, "config": {**OUTSIDE[step_type], **config}, "next": None},
        "s2": {"type": "add_tag", "config": {"tag": "x"}, "next": None}}}


@pytest.mark.parametrize("step_type", sorted(OUTSIDE))
def test_saved_graphs_keep_todays_behaviour(step_type):
    graph = graph_with(step_type)
    del graph["steps"]["s2"]
    config = load_graph(graph)["steps"]["s1"]["config"]
    assert (config["retry_attempts"], config["retry_backoff_seconds"], config["failure_next"]) == (None, None, None)
    assert retry_policy(config) is None


@pytest.mark.parametrize("step_type", sorted(OUTSIDE))
def test_the_policy_is_checked_and_errors_name_step_and_field(step_type):
    loaded = load_graph(graph_with(step_type, retry_attempts=10, retry_backoff_seconds=30, failure_next="s2"))
    assert retry_policy(loaded["steps"]["s1"]["config"]) == {"max_attempts": 11, "retry_backoff_seconds": 30}
    for field, value in (("retry_attempts", 11), ("retry_attempts", -1), ("retry_attempts", "3"),
                         ("retry_backoff_seconds", 0), ("retry_backoff_seconds", 3601)):
        with pytest.raises(ValidationError) as caught:
            load_graph(graph_with(step_type, **{field: value}, failure_next="s2"))
        assert f"steps.s1.config.{field}" in caught.value.messages, (field, value)
    with pytest.raises(ValidationError) as caught:
        load_graph(graph_with(step_type, failure_next="nope"))
    assert "steps.s1.config.failure_next" in caught.value.messages


def test_a_step_reached_only_on_failure_counts_as_reachable_and_may_read_the_error():
    graph = graph_with("webhook", failure_next="s2")
    graph["steps"]["s2"] = {"type": "add_note", "config": {"body": "{{ steps.s1.error }}"}, "next": None}
    parsed = Graph.from_dict(load_graph(graph))
    assert parsed.reachable() == {"s1", "s2"}
    assert parsed.kept_outputs["s1"] == frozenset({"error"})


def test_a_failure_loop_without_a_wait_is_refused():
    graph = graph_with("send_sms", failure_next="s1")
    del graph["steps"]["s2"]
    with pytest.raises(ValidationError) as caught:
        load_graph(graph)
    assert "loop" in str(caught.value.messages)


def test_notify_on_failure_is_a_list_of_user_ids():
    graph = graph_with("send_sms")
    del graph["steps"]["s2"]
    graph["settings"] = {"notify_on_failure": [3, 4]}
    assert load_graph(graph)["settings"]["notify_on_failure"] == [3, 4]
    graph["settings"] = {"notify_on_failure": ["ann"]}
    with pytest.raises(ValidationError) as caught:
        load_graph(graph)
    assert any(k.startswith("settings.notify_on_failure") for k in caught.value.messages)


def test_retry_delays():
    assert [retry_delay(n, 5, []) for n in (1, 2, 3)] == [5, 10, 20]
    assert [retry_delay(n, None, [10, 60]) for n in (1, 2, 3)] == [10, 60, 60]
    assert may_retry(2, None, [10, 60]) and not may_retry(3, None, [10, 60])  # today's rule
    assert may_retry(3, 4, []) and not may_retry(4, 4, [10])  # the step's attempts win


def test_the_api_refuses_a_bad_policy_with_a_422_naming_step_and_field(as_user, users):
    api = as_user("manager")
    resp = api.post("/api/workflows", json=graph_with("webhook", retry_attempts=11))
    assert resp.status_code == 422
    assert "steps.s1.config.retry_attempts" in resp.json["error"]["fields"]
    assert resp.json["error"]["message"].startswith("steps.s1.config.retry_attempts")
    graph = graph_with("webhook", failure_next="s2")
    graph["settings"] = {"notify_on_failure": [users["agent"].id, 999999]}
    resp = api.post("/api/workflows", json=graph)
    assert resp.status_code == 422 and "999999" in resp.json["error"]["fields"]["settings.notify_on_failure"][0]
    graph["settings"] = {"notify_on_failure": [users["agent"].id]}
    assert api.post("/api/workflows", json=graph).status_code == 201
