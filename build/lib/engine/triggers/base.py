"""Trigger types: one small class with its config schema and its matching rule per type.

A trigger is the graph's `trigger` object ({"type", "config"}); an event is what
happened to one contact. The web side and the job layer build events; which
workflows an event starts is decided here, without a database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import RAISE, Schema


@dataclass(frozen=True)
class Event:
    type: str
    contact_id: int
    # Unique per occurrence: with the workflow and contact it keys the enrollment, so an event
    # handled twice enrolls once.
    key: str
    tag: str | None = None
    text: str | None = None  # the reply's body
    workflow_id: int | None = None  # inbound webhooks address one workflow


class NoTriggerConfig(Schema):
    """A trigger without settings; also the base of every trigger config (unknown keys are errors)."""

    class Meta:
        unknown = RAISE


class Trigger:
    """Base class: subclasses set the class attributes and, if their config narrows it, override `matches`."""

    type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    schema: ClassVar[type[Schema]] = NoTriggerConfig
    # False for types no contact event fires (Add to Automation enrolls explicitly).
    fired_by_events: ClassVar[bool] = True
    # Place in the builder's list (ties by type id); modules load in file-name order, so it is set here.
    order: ClassVar[int] = 100

    def matches(self, config: dict[str, Any], event: Event) -> bool:
        """Whether an event of this type (already checked) starts a workflow with this config."""
        return True


_REGISTRY: dict[str, Trigger] = {}


def register(cls: type[Trigger]) -> type[Trigger]:
    if cls.type in _REGISTRY:
        raise ValueError(f"trigger type {cls.type!r} registered twice")
    _REGISTRY[cls.type] = cls()
    return cls


def get(trigger_type: str) -> Trigger | None:
    return _REGISTRY.get(trigger_type)


def all_triggers() -> list[Trigger]:
    return sorted(_REGISTRY.values(), key=lambda t: (t.order, t.type))


def unregister(trigger_type: str) -> None:
    """Forget a type (a plugin unloaded, or a type a test defined for itself)."""
    _REGISTRY.pop(trigger_type, None)


class Labels(Mapping[str, str]):
    """{type: label} of the registered trigger types, read live so later registrations show."""

    def __getitem__(self, key: str) -> str:
        return _REGISTRY[key].label

    def __iter__(self) -> Iterator[str]:
        return iter([t.type for t in all_triggers()])

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


def matches(trigger: dict[str, Any], event: Event) -> bool:
    """Whether the graph's trigger object listens for this event."""
    kind = trigger.get("type")
    if kind != event.type:
        return False
    handler = _REGISTRY.get(kind)
    # A type no longer registered cannot have been validated; it starts nothing.
    return handler is not None and handler.matches(trigger.get("config") or {}, event)
