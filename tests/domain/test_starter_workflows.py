"""The built-in templates: six ready workflows, each a valid graph of the real schema, showing its pattern."""

from __future__ import annotations

import json

import pytest

from builder.domain.workflow_templates import STARTERS, builtin_templates, step_summary
from engine import triggers
from engine.graph import load_graph

PATTERNS = {
    "speed-to-lead": {"manual_call"},
    "missed-call-text-back": {"send_sms", "wait_for_reply"},
    "appointment-reminder": {"send_sms", "wait_for_reply"},
    "review-request": {"send_sms", "wait"},
    "re-engagement": {"send_sms", "wait_for_reply"},
    "opt-out-safe-sms-drip": {"send_sms", "wait"},
}
FILES = sorted(STARTERS.glob("*.json"))


def test_the_six_patterns_are_there_in_gallery_order():
    assert list(builtin_templates()) == list(PATTERNS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_template_is_a_valid_graph_using_its_patterns_steps(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"name", "description", "order", "graph"}
    assert data["name"] and 0 < len(data["description"]) <= 200
    graph = load_graph(data["graph"])  # raises on any error, naming the step and field
    assert graph == data["graph"], "the file should be stored normalised, as the schema loads it"
    assert graph["name"] == data["name"]
    assert triggers.get(graph["trigger"]["type"]) is not None
    types = {step["type"] for step in graph["steps"].values()}
    assert PATTERNS[path.stem] <= types
    assert all(step["name"] for step in graph["steps"].values()), "every step has a name people can read"
    assert "user_ids" not in json.dumps(graph), "a template cannot know an account's users"


def test_every_sms_of_the_drip_says_how_to_opt_out_and_stops_on_a_reply():
    graph = builtin_templates()["opt-out-safe-sms-drip"]["graph"]
    texts = [s["config"]["message"] for s in graph["steps"].values() if s["type"] == "send_sms"]
    assert len(texts) == 3 and all("Reply STOP to opt out" in t for t in texts)
    assert graph["settings"]["stop_on_response"] is True and graph["settings"]["send_window"]


def test_the_gallery_lists_the_steps_from_the_start():
    graph = builtin_templates()["speed-to-lead"]["graph"]
    assert step_summary(graph) == ["Send SMS", "Manual Action: Call", "Add Contact Tag"]
    branching = builtin_templates()["missed-call-text-back"]["graph"]
    assert step_summary(branching) == ["Send SMS", "Wait for Customer Reply", "Manual Action: SMS",
                                       "Manual Action: Call"]
