"""Goals and event waits: which contact events meet which steps of a run's graph.

A Goal Event step (engine.actions.goal_event) pulls a run forward: while the run is at any step
that can reach the goal step, an event that meets the goal makes the run jump to it. A Wait in
mode "event" (engine.actions.wait) takes its "event happened" exit on a matching event. Both use
the same condition shape ({"goal": kind, "tag"?, "condition"?}), read here.

Pure functions on a graph, the run's status and step, the event and the contact: the job layer and
the domain find the contact's open runs, lock them, ask `reaction` what each should do, then do it
(engine.interpreter.jump / resume).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine import conditions
from engine.ports import ContactView
from engine.statuses import RunStatus

if TYPE_CHECKING:
    from engine.graph import Graph

TAG_ADDED = "tag_added"
TAG_REMOVED = "tag_removed"
REPLIED = "replied"
MANUAL_ACTION_COMPLETED = "manual_action_completed"
TASK_COMPLETED = "task_completed"
FIELD_CONDITION = "field_condition"
# An event, not a goal kind: the contact's fields changed, so field conditions are looked at again.
CONTACT_CHANGED = "contact_changed"

GOAL_KINDS = (TAG_ADDED, TAG_REMOVED, REPLIED, MANUAL_ACTION_COMPLETED, TASK_COMPLETED, FIELD_CONDITION)
WAIT_KINDS = (TAG_ADDED, TAG_REMOVED, FIELD_CONDITION, REPLIED)
KIND_LABELS = {TAG_ADDED: "Tag added", TAG_REMOVED: "Tag removed", REPLIED: "Customer replied (SMS)",
               MANUAL_ACTION_COMPLETED: "A manual action completed", TASK_COMPLETED: "A task completed",
               FIELD_CONDITION: "Contact field condition"}
TAG_KINDS = [TAG_ADDED, TAG_REMOVED]
# Events that can make a field condition true: any change to the contact (tags are fields too).
_CHANGES = frozenset({CONTACT_CHANGED, TAG_ADDED, TAG_REMOVED})

GOAL_STEP = "goal_event"
WAIT_STEP = "wait"
# What a resumed Wait in mode "event" is told.
EVENT = "event"


@dataclass(frozen=True)
class Event:
    """Something that happened to a contact: a tag added or removed, a reply, a manual action or
    task completed, or its fields changed."""

    kind: str
    tag: str | None = None

    def describe(self) -> str:
        return f"{self.kind} {self.tag}" if self.tag else self.kind


def event_meets(cond: dict[str, Any], event: Event, contact: ContactView) -> bool:
    """Whether `event` meets a goal (or an event wait) configured as `cond`."""
    kind = cond.get("goal")
    if kind == FIELD_CONDITION:
        return event.kind in _CHANGES and bool(cond.get("condition")) and conditions.matches(contact, cond["condition"])
    if kind in TAG_KINDS:
        return event.kind == kind and (event.tag or "").casefold() == str(cond.get("tag") or "").casefold()
    return event.kind == kind


def state_meets(cond: dict[str, Any], contact: ContactView) -> bool:
    """Whether a contact reaching the step already meets it: tags and fields are read as they stand;
    replies and completions are events, met only by their event while the run is before the step."""
    kind = cond.get("goal")
    has_tag = str(cond.get("tag") or "").casefold() in {t.casefold() for t in contact.tags}
    if kind == TAG_ADDED:
        return has_tag
    if kind == TAG_REMOVED:
        return not has_tag
    if kind == FIELD_CONDITION:
        return bool(cond.get("condition")) and conditions.matches(contact, cond["condition"])
    return False


def goals_reaching(graph: Graph) -> dict[str, tuple[str, ...]]:
    """{step id: the goal steps it can reach (itself included), nearest first}. Worked out once per
    parsed graph (graphs are shared by every run of their version); {} for a graph without goals."""
    cached = graph.__dict__.get("_goals_reaching")
    if cached is not None:
        return cached
    out: dict[str, list[str]] = {}
    for sid in graph.steps:
        seen, queue = {sid}, deque([sid])
        while queue:  # breadth first: the nearest goal first
            current = queue.popleft()
            if graph.steps[current].type == GOAL_STEP:
                out.setdefault(sid, []).append(current)
            for nxt in graph.successors(current):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    result = {sid: tuple(goals) for sid, goals in out.items()}
    graph.__dict__["_goals_reaching"] = result  # a plain attribute cache: Graph is a shared dataclass
    return result


def listens(graph: Graph) -> bool:
    """Whether runs of this graph can react to contact events at all (a goal, or a Wait for an event)."""
    return any(s.type == GOAL_STEP or (s.type == WAIT_STEP and s.config.get("mode") == EVENT)
               for s in graph.steps.values())


@dataclass(frozen=True)
class Reaction:
    """What an event does to a run: "goal" (jump to the goal step `step`) or "wait" (resume the
    Wait for an event it is paused at, `step`, down its event exit)."""

    kind: str
    step: str


def reaction(graph: Graph, status: str, current_step: str | None, event: Event,
             contact: ContactView) -> Reaction | None:
    """What `event` does to an open run at `current_step` with `status`, or None.

    A goal it can reach and whose goal the event meets wins (the nearest); else a Wait for an event
    the run is paused at, if the event is the one it waits for."""
    if current_step is None or current_step not in graph.steps:
        return None
    for goal_id in goals_reaching(graph).get(current_step, ()):
        if event_meets(graph.steps[goal_id].config, event, contact):
            return Reaction("goal", goal_id)
    step = graph.steps[current_step]
    if (status == RunStatus.WAITING.value and step.type == WAIT_STEP and step.config.get("mode") == EVENT
            and event_meets(wait_condition(step.config), event, contact)):
        return Reaction("wait", current_step)
    return None


def wait_condition(config: dict[str, Any]) -> dict[str, Any]:
    """A Wait's event fields in the goal shape."""
    return {"goal": config.get("event"), "tag": config.get("event_tag"), "condition": config.get("event_condition")}


def missing_field(cond: dict[str, Any]) -> str | None:
    """Which part of the goal shape is missing for its kind ("tag" or "condition"), or None."""
    kind = cond.get("goal")
    if kind in TAG_KINDS and not str(cond.get("tag") or "").strip():
        return "tag"
    if kind == FIELD_CONDITION and not cond.get("condition"):
        return "condition"
    return None
