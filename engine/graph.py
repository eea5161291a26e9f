"""Workflow graph v1: the marshmallow schema that validates it, and the parsed form.

Errors are keyed by path so that every message names the step and field, e.g.
``{"steps.s2.config.message": ["Missing data for required field."]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from engine import registry, step_refs, triggers
from engine.step import Step

SCHEMA_VERSION = 1
# \Z, not $: "$" would also accept a trailing newline.
STEP_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}\Z", error="Step ids are 1-64 letters, digits, '-' or '_'.")

# {type: label} of every registered trigger type, read live from engine.triggers.
TRIGGER_TYPES = triggers.Labels()


class RegisteredTriggerType(validate.OneOf):
    """OneOf over the trigger types registered when it runs, not when this module loaded,
    so a type registered later validates and shows in the OpenAPI enum too."""

    def __init__(self) -> None:  # no fixed choices to store: they are read on every use
        self.labels: list[str] = []
        self.labels_text = ""
        self.error = self.default_message

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        return sorted(TRIGGER_TYPES)

    @property
    def choices_text(self) -> str:
        return ", ".join(self.choices)


class TriggerSchema(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=RegisteredTriggerType())
    config = fields.Dict(keys=fields.String(), load_default=dict)

    @post_load
    def _config_for_type(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        handler = triggers.get(data["type"])
        if handler is None:  # unregistered since the type was checked
            raise ValidationError({"type": [f"Unknown trigger type {data['type']!r}."]})
        try:
            data["config"] = handler.schema(unknown=RAISE).load(data["config"])
        except ValidationError as exc:
            raise ValidationError({"config": exc.messages}) from exc
        return data


HH_MM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z", error="Use 24-hour HH:MM, e.g. 09:00.")


class SendWindowSchema(Schema):
    """Days and hours, in the contact's time zone, when the workflow may send SMS; other sends wait."""

    class Meta:
        unknown = RAISE

    days = fields.List(fields.String(validate=validate.OneOf(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])),
                       required=True, validate=validate.Length(min=1, max=7))
    start = fields.String(required=True, validate=HH_MM)
    end = fields.String(required=True, validate=HH_MM)

    @validates_schema(skip_on_field_errors=True)
    def _end_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("The window must end after it starts, on the same day.", "end")


class SettingsSchema(Schema):
    class Meta:
        unknown = RAISE

    allow_reentry = fields.Boolean(load_default=False)
    stop_on_response = fields.Boolean(load_default=False)
    send_window = fields.Nested(SendWindowSchema, allow_none=True)
    # Users told (an internal notification) when a run of this workflow fails; absent in older graphs.
    notify_on_failure = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                                    validate=validate.Length(max=50))


class StepSchema(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    config = fields.Dict(keys=fields.String(), load_default=dict)
    next = fields.String(load_default=None, allow_none=True)


class GraphSchema(Schema):
    class Meta:
        unknown = RAISE

    schema_version = fields.Integer(load_default=SCHEMA_VERSION, validate=validate.Equal(SCHEMA_VERSION))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    trigger = fields.Nested(TriggerSchema, load_default=lambda: {"type": "manual", "config": {}})
    settings = fields.Nested(SettingsSchema, load_default=lambda: SettingsSchema().load({}))
    start = fields.String(required=True, allow_none=True)
    steps = fields.Dict(keys=fields.String(validate=STEP_ID), values=fields.Nested(StepSchema), required=True)

    @validates_schema(skip_on_field_errors=True)
    def _check_steps(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        steps: dict[str, dict[str, Any]] = data["steps"]
        for step_id, step in steps.items():
            action = registry.get(step["type"])
            if action is None:
                errors[f"steps.{step_id}.type"] = [f"Unknown action type {step['type']!r}."]
                continue
            try:
                step["config"] = action.schema(unknown=RAISE).load(step["config"])
            except ValidationError as exc:
                for path, messages in flatten(exc.messages, f"steps.{step_id}.config").items():
                    errors[path] = messages
                continue
            for path, target in action.exit_fields(Step.from_dict(step_id, step)):
                if target is not None and target not in steps:
                    errors.setdefault(f"steps.{step_id}.{path}", []).append(
                        f"Step {step_id} points to {target!r}, which does not exist."
                    )
        start = data["start"]
        if start is None and steps:
            errors["start"] = ["A workflow with steps needs a start step."]
        elif start is not None and start not in steps:
            errors["start"] = [f"Start step {start!r} does not exist."]
        if errors:
            raise ValidationError(errors)
        graph = Graph.from_dict(data)
        for step_id in sorted(set(steps) - graph.reachable()):
            errors[f"steps.{step_id}"] = [f"Step {step_id} cannot be reached from the start step."]
        cycle = graph.cycle_without_pause()
        if cycle:
            errors[f"steps.{cycle[0]}"] = [
                "Steps " + " -> ".join(cycle) + " form a loop with no wait in it; add a wait step."
            ]
        if errors:
            raise ValidationError(errors)
        errors = graph.reference_errors()
        if errors:
            raise ValidationError(errors)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into {"a.b.c": [messages]}."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix and key != "_schema" else (prefix or str(key))
            out.update(flatten(value, path))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, list):
        out = {}
        for item in messages:
            out.update(flatten(item, prefix))
        return out
    return {prefix or "_schema": [str(messages)]}


def load_graph(raw: Any) -> dict[str, Any]:
    """Validate and normalise a graph (defaults filled in). Raises ValidationError."""
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["The workflow graph must be a JSON object."]})
    try:
        return GraphSchema().load(raw)
    except ValidationError as exc:
        raise ValidationError(_graph_errors(exc.messages)) from exc


def _graph_errors(messages: Any) -> dict[str, list[str]]:
    """Flatten, dropping the "key"/"value" level that the `steps` Dict field adds
    (only there: a config field may itself be called "value", as in conditions)."""
    if not isinstance(messages, dict) or not isinstance(messages.get("steps"), dict):
        return flatten(messages)
    out = flatten({k: v for k, v in messages.items() if k != "steps"})
    for step_id, errs in messages["steps"].items():
        wrapped = isinstance(errs, dict) and errs and set(errs) <= {"key", "value"}
        for part in (errs.get("key"), errs.get("value")) if wrapped else (errs,):
            for path, msgs in flatten(part or {}, f"steps.{step_id}").items():
                out.setdefault(path, []).extend(msgs)
    return out


@dataclass
class Graph:
    """A validated graph, parsed once per version and shared by every run of it."""

    name: str
    start: str | None
    steps: dict[str, Step]
    trigger: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        return cls(
            name=data.get("name", ""),
            start=data.get("start"),
            steps={sid: Step.from_dict(sid, raw) for sid, raw in data.get("steps", {}).items()},
            trigger=dict(data.get("trigger") or {}),
            settings=dict(data.get("settings") or {}),
        )

    def successors(self, step_id: str) -> list[str]:
        step = self.steps[step_id]
        return [t for t in registry.action_for(step).exits(step) if t is not None and t in self.steps]

    def reachable(self) -> set[str]:
        seen: set[str] = set()
        stack = [self.start] if self.start in self.steps else []
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            stack.extend(self.successors(sid))
        return seen

    def dominators(self) -> dict[str, set[str]]:
        """{step: the steps every path from the start to it passes through, itself included},
        for the steps reachable from the start."""
        order = self._walk_order()
        preds: dict[str, list[str]] = {sid: [] for sid in order}
        for sid in order:
            for nxt in self.successors(sid):
                preds[nxt].append(sid)
        everything = set(order)
        dom = {sid: {sid} if sid == self.start else set(everything) for sid in order}
        changed = True
        while changed:
            changed = False
            for sid in order:
                if sid == self.start:
                    continue
                inherited = set.intersection(*(dom[p] for p in preds[sid])) if preds[sid] else set()
                new = inherited | {sid}
                if new != dom[sid]:
                    dom[sid], changed = new, True
        return dom

    def _walk_order(self) -> list[str]:
        """Reachable steps, each after the one it was first reached from (dominators settle fast in it)."""
        order: list[str] = []
        seen: set[str] = set()
        stack = [self.start] if self.start in self.steps else []
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            order.append(sid)
            stack.extend(reversed(self.successors(sid)))
        return order

    @cached_property
    def kept_outputs(self) -> dict[str, frozenset[str]]:
        """{step id: its output fields that later steps read}: what a run keeps (engine.step_refs).
        Parsed graphs are shared by every run of their version, so this is worked out once."""
        return step_refs.kept_outputs(self.steps)

    def reference_errors(self) -> dict[str, list[str]]:
        """Errors by "steps.<id>.config.<field>" for run variables a step may not read: an unknown
        step or output, its own output, or a step that may not have run before it on some path."""
        errors: dict[str, list[str]] = {}
        dominators: dict[str, set[str]] | None = None
        for sid, step in self.steps.items():
            for ref in step_refs.references(step):
                if dominators is None:
                    dominators = self.dominators()
                problem = self._reference_problem(sid, ref, dominators)
                if problem:
                    errors.setdefault(f"steps.{sid}.{ref.path}", []).append(f"{ref.shown}: {problem}")
        return errors

    def _reference_problem(self, sid: str, ref: step_refs.StepRef, dominators: dict[str, set[str]]) -> str | None:
        if ref.step is None:
            return "name a step and one of its outputs, as in {{ steps.<step id>.<field> }}."
        read = self.steps.get(ref.step)
        if read is None:
            return f"there is no step {ref.step!r} in this workflow."
        if ref.step == sid:
            return f"step {sid} cannot read its own output."
        if ref.step not in dominators.get(sid, set()):
            return (f"step {ref.step} ({self._describe(read)}) may not have run before step {sid} "
                    f"({self._describe(self.steps[sid])}): not every path from the start to {sid} "
                    f"passes through {ref.step}.")
        declared = step_refs.output_fields(registry.action_for(read))
        if ref.field is not None and ref.field in declared:
            return None
        described = f"step {ref.step} ({self._describe(read)})"
        if not declared:
            return f"{described} has no outputs later steps can read."
        if ref.field is None:
            return f"name one of the outputs of {described}: {', '.join(declared)}."
        return f"{described} has no output {ref.field!r}; its outputs are {', '.join(declared)}."

    def _describe(self, step: Step) -> str:
        action = registry.get(step.type)
        return step.name or (action.label if action else step.type)

    def cycle_without_pause(self) -> list[str] | None:
        """A loop made only of instant steps would spin forever; find one if any."""
        instant = {sid for sid, s in self.steps.items() if not registry.action_for(s).pauses_at(s)}
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        path: list[str] = []

        def visit(sid: str) -> list[str] | None:
            state[sid] = 1
            path.append(sid)
            for nxt in self.successors(sid):
                if nxt not in instant:
                    continue
                if state.get(nxt) == 1:
                    return path[path.index(nxt):] + [nxt]
                if nxt not in state:
                    found = visit(nxt)
                    if found:
                        return found
            path.pop()
            state[sid] = 2
            return None

        for sid in sorted(instant):
            if sid not in state:
                found = visit(sid)
                if found:
                    return found
        return None


__all__ = ["Graph", "GraphSchema", "Step", "TRIGGER_TYPES", "flatten", "load_graph"]
