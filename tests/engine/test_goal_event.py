"""Goal Event and Wait "until an event", engine alone: an in-memory store and contact. Which runs an
event meets (engine.goals.reaction), the jump (engine.interpreter.jump, exactly once under its seq), what
a contact reaching the goal without meeting it does, and the event wait's two exits. The same through the
database, Redis and RQ is in tests/jobs/test_goal_events.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from marshmallow import ValidationError

from engine import goals, interpreter
from engine.goals import Event
from engine.graph import Graph, load_graph
from tests.engine.memory_run import MemoryRun

NOW = datetime(2030, 1, 9, 12, 0)


Run = partial(MemoryRun, current_step="s1")


@dataclass
class Person:
    id: int = 1
    first_name: str = "Ada"
    last_name: str = ""
    email: str | None = None
    phone: str | None = None
    timezone: str = "UTC"
    assigned_user_id: int | None = None
    engagement_score: int = 0
    custom_fields: dict[str, Any] = field(default_factory=dict)
    deleted_at: datetime | None = None
    tag_list: list[str] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        return self.tag_list


@dataclass
class MemoryStore:
    logged: list[dict[str, Any]] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)

    def log_step(self, row):
        self.logged.append(row)

    def add_tag(self, contact, tag):
        contact.tag_list.append(tag)
        self.tags_added.append(tag)
        return True


def graph(goal: dict, *, before: dict | None = None) -> Graph:
    """s1 wait 1 day -> s2 add tag "nurtured" -> goal -> s3 add tag "after"; `before` replaces s1."""
    steps = {
        "s1": before or {"type": "wait", "config": {"mode": "delay", "amount": 1, "unit": "days"}, "next": "s2"},
        "s2": {"type": "add_tag", "config": {"tag": "nurtured"}, "next": "goal"},
        "goal": {"type": "goal_event", "config": goal, "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "after"}, "next": None},
    }
    return Graph.from_dict(load_graph({"name": "Goal", "start": "s1", "steps": steps}))


BOUGHT = {"goal": "tag_added", "tag": "Bought"}


def waiting(g: Graph, person: Person) -> tuple[Run, MemoryStore]:
    run, store = Run(), MemoryStore()
    interpreter.advance(run, g, person, store, NOW)  # type: ignore[arg-type]
    assert run.status == "waiting" and run.current_step == "s1"
    return run, store


def test_an_event_meets_a_goal_the_run_can_reach_and_the_run_jumps_past_the_waits_before_it():
    g, person = graph(BOUGHT), Person()
    run, store = waiting(g, person)
    assert goals.reaction(g, run.status, run.current_step, Event("tag_added", "bought"), person) == \
        goals.Reaction("goal", "goal")  # tags ignore case
    assert goals.reaction(g, run.status, run.current_step, Event("tag_added", "other"), person) is None
    assert goals.reaction(g, run.status, run.current_step, Event("tag_removed", "bought"), person) is None
    seq = run.seq
    assert interpreter.jump(run, g, store, NOW, seq=seq, to_step="goal", event="tag_added Bought")  # type: ignore
    assert (run.status, run.current_step, run.wake_at, run.seq) == ("active", "s3", None, seq + 1)
    row = store.logged[-1]
    assert row["step_id"] == "goal" and row["outcome"] == "ok"
    assert row["output"] == {"goal_met": True, "jumped_from": "s1", "event": "tag_added Bought", "next": "s3"}
    # Exactly once: the same jump (or the wait's timer) under the old seq does nothing.
    assert not interpreter.jump(run, g, store, NOW, seq=seq, to_step="goal", event="again")  # type: ignore
    assert not interpreter.resume(run, g, person, store, NOW, seq=seq, event="timer")  # type: ignore
    interpreter.advance(run, g, person, store, NOW)  # type: ignore[arg-type]
    assert run.status == "completed" and store.tags_added == ["after"]  # s2 was skipped


def test_a_run_past_the_goal_is_not_moved():
    g, person = graph(BOUGHT), Person()
    assert goals.reaction(g, "active", "s3", Event("tag_added", "Bought"), person) is None
    assert goals.goals_reaching(g) == {"s1": ("goal",), "s2": ("goal",), "goal": ("goal",)}


def test_a_graph_without_goals_or_event_waits_does_not_listen():
    plain = Graph.from_dict(load_graph({"name": "P", "start": "a", "steps": {
        "a": {"type": "wait", "config": {"amount": 1}, "next": None}}}))
    assert not goals.listens(plain) and goals.goals_reaching(plain) == {}
    assert goals.listens(graph(BOUGHT))


@pytest.mark.parametrize(("goal", "event", "met"), [
    ({"goal": "tag_removed", "tag": "lead"}, Event("tag_removed", "LEAD"), True),
    ({"goal": "tag_removed", "tag": "lead"}, Event("tag_added", "lead"), False),
    ({"goal": "replied"}, Event("replied"), True),
    ({"goal": "replied"}, Event("task_completed"), False),
    ({"goal": "manual_action_completed"}, Event("manual_action_completed"), True),
    ({"goal": "task_completed"}, Event("task_completed"), True),
    ({"goal": "task_completed"}, Event("replied"), False),
])
def test_each_goal_kind_is_met_by_its_own_event(goal, event, met):
    g, person = graph(goal), Person(tag_list=["lead"])
    assert (goals.reaction(g, "waiting", "s1", event, person) is not None) is met


def test_a_field_condition_goal_is_met_when_a_change_makes_it_true():
    goal = {"goal": "field_condition", "condition": {"field": "contact.custom.plan", "op": "equals", "value": "pro"}}
    g, person = graph(goal), Person()
    changed = Event(goals.CONTACT_CHANGED)
    assert goals.reaction(g, "waiting", "s1", changed, person) is None
    person.custom_fields = {"plan": "PRO"}
    assert goals.reaction(g, "waiting", "s1", changed, person) == goals.Reaction("goal", "goal")
    assert goals.reaction(g, "waiting", "s1", Event("replied"), person) is None  # not a change to the contact


def test_reaching_the_goal_already_met_goes_on():
    g, person = graph(BOUGHT), Person(tag_list=["bought"])
    run, store = waiting(g, person)
    interpreter.resume(run, g, person, store, NOW + timedelta(days=1), seq=run.seq, event="timer")  # type: ignore
    assert run.status == "completed"
    goal_row = next(r for r in store.logged if r["step_id"] == "goal")
    assert goal_row["outcome"] == "ok" and goal_row["output"]["goal_met"] is True


@pytest.mark.parametrize(("if_not_met", "status", "tags", "outcome"), [
    ("continue", "completed", ["nurtured", "after"], "skipped"),
    ("end", "completed", ["nurtured"], "ended"),
    ("wait", "parked", ["nurtured"], "parked"),
])
def test_reaching_the_goal_without_meeting_it_does_what_if_not_met_says(if_not_met, status, tags, outcome):
    g, person = graph({**BOUGHT, "if_not_met": if_not_met}), Person()
    run, store = waiting(g, person)
    interpreter.resume(run, g, person, store, NOW + timedelta(days=1), seq=run.seq, event="timer")  # type: ignore
    assert run.status == status and store.tags_added == tags
    goal_row = next(r for r in store.logged if r["step_id"] == "goal")
    assert goal_row["outcome"] == outcome and goal_row["output"]["goal_met"] is False


def test_a_run_waiting_at_its_goal_goes_on_when_it_is_met():
    g, person = graph({**BOUGHT, "if_not_met": "wait"}), Person()
    run, store = waiting(g, person)
    interpreter.resume(run, g, person, store, NOW + timedelta(days=1), seq=run.seq, event="timer")  # type: ignore
    assert (run.status, run.current_step) == ("parked", "goal")
    found = goals.reaction(g, run.status, run.current_step, Event("tag_added", "bought"), person)
    assert found == goals.Reaction("goal", "goal")
    assert interpreter.jump(run, g, store, NOW, seq=run.seq, to_step="goal", event="tag_added bought")  # type: ignore
    assert store.logged[-1]["output"]["jumped_from"] == "goal"
    interpreter.advance(run, g, person, store, NOW)  # type: ignore[arg-type]
    assert run.status == "completed" and store.tags_added == ["nurtured", "after"]


def test_the_nearest_goal_the_event_meets_wins():
    steps = {
        "s1": {"type": "wait", "config": {"amount": 1, "unit": "days"}, "next": "g1"},
        "g1": {"type": "goal_event", "config": {"goal": "replied"}, "next": "s2"},
        "s2": {"type": "wait", "config": {"amount": 1, "unit": "days"}, "next": "g2"},
        "g2": {"type": "goal_event", "config": {"goal": "replied"}, "next": None},
    }
    g = Graph.from_dict(load_graph({"name": "Two", "start": "s1", "steps": steps}))
    assert goals.reaction(g, "waiting", "s1", Event("replied"), Person()) == goals.Reaction("goal", "g1")
    assert goals.reaction(g, "waiting", "s2", Event("replied"), Person()) == goals.Reaction("goal", "g2")


# --- Wait "until an event" ---------------------------------------------------------------------------------

def event_wait(**config: Any) -> Graph:
    steps = {
        "w": {"type": "wait", "config": {"mode": "event", "timeout_amount": 2, "timeout_unit": "hours",
                                         "event_next": "yes", "timeout_next": "no", **config}},
        "yes": {"type": "add_tag", "config": {"tag": "happened"}, "next": None},
        "no": {"type": "add_tag", "config": {"tag": "timed-out"}, "next": None},
    }
    return Graph.from_dict(load_graph({"name": "W", "start": "w", "steps": steps}))


def test_an_event_wait_goes_down_event_happened_on_its_event():
    g, person = event_wait(event="tag_added", event_tag="VIP"), Person()
    run, store = Run(current_step="w"), MemoryStore()
    interpreter.advance(run, g, person, store, NOW)  # type: ignore[arg-type]
    assert run.status == "waiting" and run.wake_at == NOW + timedelta(hours=2)
    assert store.logged[0]["output"]["waiting_for"] == "tag_added"
    assert goals.reaction(g, run.status, "w", Event("tag_added", "other"), person) is None
    assert goals.reaction(g, run.status, "w", Event("tag_added", "vip"), person) == goals.Reaction("wait", "w")
    seq = run.seq
    assert interpreter.resume(run, g, person, store, NOW, seq=seq, event=goals.EVENT)  # type: ignore[arg-type]
    assert run.status == "completed" and store.tags_added == ["happened"]
    assert not interpreter.resume(run, g, person, store, NOW, seq=seq, event="timer")  # type: ignore # stale timer


def test_an_event_wait_goes_down_timed_out_when_the_time_runs_out():
    g, person = event_wait(event="replied"), Person()
    run, store = Run(current_step="w"), MemoryStore()
    interpreter.advance(run, g, person, store, NOW)  # type: ignore[arg-type]
    interpreter.resume(run, g, person, store, run.wake_at, seq=run.seq, event="timer")  # type: ignore[arg-type]
    assert run.status == "completed" and store.tags_added == ["timed-out"]


def test_an_event_wait_on_a_condition_already_true_goes_straight_on():
    cond = {"field": "contact.email", "op": "is_not_empty"}
    g = event_wait(event="field_condition", event_condition=cond)
    run, store = Run(current_step="w"), MemoryStore()
    interpreter.advance(run, g, Person(email="a@example.com"), store, NOW)  # type: ignore[arg-type]
    assert run.status == "completed" and store.tags_added == ["happened"]


def test_existing_wait_configs_load_unchanged_and_keep_one_exit():
    loaded = load_graph({"name": "W", "start": "w", "steps": {
        "w": {"type": "wait", "config": {"amount": 3}, "next": None}}})
    assert loaded["steps"]["w"]["config"] == {"mode": "delay", "amount": 3, "unit": "minutes"}


# --- config errors name the step and the field -------------------------------------------------------------

@pytest.mark.parametrize(("step", "path"), [
    ({"type": "goal_event", "config": {}}, "steps.x.config.goal"),
    ({"type": "goal_event", "config": {"goal": "tag_added"}}, "steps.x.config.tag"),
    ({"type": "goal_event", "config": {"goal": "tag_removed", "tag": " "}}, "steps.x.config.tag"),
    ({"type": "goal_event", "config": {"goal": "field_condition"}}, "steps.x.config.condition"),
    ({"type": "goal_event", "config": {"goal": "field_condition",
                                       "condition": {"field": "name", "op": "equals", "value": 1}}},
     "steps.x.config.condition.field"),
    ({"type": "goal_event", "config": {"goal": "bought"}}, "steps.x.config.goal"),
    ({"type": "goal_event", "config": {"goal": "replied", "if_not_met": "sulk"}}, "steps.x.config.if_not_met"),
    ({"type": "wait", "config": {"mode": "event"}}, "steps.x.config.event"),
    ({"type": "wait", "config": {"mode": "event", "event": "task_completed"}}, "steps.x.config.event"),
    ({"type": "wait", "config": {"mode": "event", "event": "replied"}}, "steps.x.config.timeout_amount"),
    ({"type": "wait", "config": {"mode": "event", "event": "tag_added", "timeout_amount": 1,
                                 "timeout_unit": "days"}}, "steps.x.config.event_tag"),
    ({"type": "wait", "config": {"mode": "event", "event": "replied", "timeout_amount": 1,
                                 "timeout_unit": "days", "event_next": "nowhere"}}, "steps.x.config.event_next"),
])
def test_bad_configs_name_the_step_and_field(step, path):
    with pytest.raises(ValidationError) as err:
        load_graph({"name": "Bad", "start": "x", "steps": {"x": {"next": None, **step}}})
    assert path in err.value.messages, err.value.messages


def test_the_part_a_kind_does_not_use_is_dropped_not_checked():
    """The builder keeps hidden fields' values: a condition half filled in before the goal became a tag."""
    half = {"field": "contact.email"}  # no operator: invalid, but not this goal's part
    loaded = load_graph({"name": "G", "start": "x", "steps": {"x": {"type": "goal_event", "next": None, "config": {
        "goal": "tag_added", "tag": "vip", "condition": half}}}})
    assert loaded["steps"]["x"]["config"] == {"goal": "tag_added", "tag": "vip", "if_not_met": "continue"}
    loaded = load_graph({"name": "W", "start": "x", "steps": {"x": {"type": "wait", "next": None, "config": {
        "mode": "delay", "amount": 1, "event_condition": half, "event_tag": "x"}}}})
    assert loaded["steps"]["x"]["config"] == {"mode": "delay", "amount": 1, "unit": "minutes"}
