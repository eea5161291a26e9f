"""Action types: one small handler class with its config schema per type."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import Schema

from engine.context import StepContext
from engine.step import Step


class Outcome(enum.StrEnum):
    OK = "ok"
    SKIPPED = "skipped"  # the step did nothing on purpose (reason in output); the run goes on
    WAITING = "waiting"  # a timer resumes the run at wake_at
    PARKED = "parked"  # a person resumes the run (manual action)
    ENDED = "ended"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    next: str | None = None
    wake_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def go(cls, next_step: str | None, **output: Any) -> Result:
        return cls(Outcome.OK, next=next_step, output=output)

    @classmethod
    def skip(cls, next_step: str | None, reason: str, **output: Any) -> Result:
        return cls(Outcome.SKIPPED, next=next_step, output={"reason": reason, **output})


class Action:
    """Base class: subclasses set the class attributes and override `run`."""

    type: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str] = ""
    schema: ClassVar[type[Schema]]
    # True for types that can hand control to time or a person (shown in the palette).
    pauses: ClassVar[bool] = False
    # How the builder lays out the step's ways out; must agree with exit_fields. One of
    # {"kind": "next"}, {"kind": "none"}, {"kind": "goto", "field": ...},
    # {"kind": "branches", "list", "target", "label", "else", "else_label"},
    # {"kind": "named", "exits": [{"field", "label"}, ...]}.
    exit_layout: ClassVar[dict[str, Any]] = {"kind": "next"}
    # What the step's output offers later steps, {field: label}, read as {{ steps.<step id>.<field> }}
    # (engine.step_refs). "contact.first_name" offers a field inside the output's "contact".
    outputs: ClassVar[dict[str, str]] = {}

    def pauses_at(self, step: Step) -> bool:
        """Whether this step, as configured, always pauses; a loop must pass one."""
        return self.pauses

    def exit_fields(self, step: Step) -> list[tuple[str, str | None]]:
        """(field path within the step, target step id or None) for each way out."""
        return [("next", step.next)]

    def exits(self, step: Step) -> list[str | None]:
        """The step ids this step can go to next (None ends the run)."""
        return [target for _, target in self.exit_fields(step)]

    def run(self, ctx: StepContext) -> Result:
        raise NotImplementedError

    def resume(self, ctx: StepContext, event: str) -> Result:
        """Called when the timer or person a pausing step waited for is done."""
        return Result.go(ctx.step.next, resumed_by=event)


_REGISTRY: dict[str, Action] = {}


def register(cls: type[Action]) -> type[Action]:
    if cls.type in _REGISTRY:
        raise ValueError(f"action type {cls.type!r} registered twice")
    _REGISTRY[cls.type] = cls()
    return cls


def get(action_type: str) -> Action | None:
    return _REGISTRY.get(action_type)


def action_for(step: Step) -> Action:
    """The handler of `step`'s type; KeyError for a type nobody registered."""
    action = get(step.type)
    if action is None:
        raise KeyError(f"unknown action type {step.type!r}")
    return action


def user_fields(action_type: str) -> tuple[str, ...]:
    """The config fields of an action type that hold user ids, read from its schema (`kind: "users"`):
    saving checks they name users of the account, and workflow files carry them as emails."""
    action = get(action_type)
    if action is None:
        return ()
    return tuple(name for name, f in action.schema().fields.items() if f.metadata.get("kind") == "users")


def all_actions() -> list[Action]:
    return list(_REGISTRY.values())


def unregister(action_type: str) -> None:
    """Forget a type (a plugin unloaded, or a type a test defined for itself)."""
    _REGISTRY.pop(action_type, None)
