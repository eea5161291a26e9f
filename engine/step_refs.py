"""Run variables: merge fields that read an earlier step's output, as {{ steps.<step id>.<field> }}.

A step's output is what its handler returned (Result.output); the fields an action type
offers to later steps are declared in its `outputs`. This module finds the references in a
step's templates; the graph checks them (engine.graph: the step read must run before the
reading one on every path) and keeps, on each run, only the outputs some step reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from engine import merge, registry
from engine.actions.fields import Template
from engine.step import Step

NAMESPACE = "steps"


@dataclass(frozen=True)
class StepRef:
    """One `steps.<step>.<field>...` read by a template of a step."""

    path: str  # the template's field within its step, e.g. "config.message"
    step: str | None  # the step read (None: the template reads `steps` alone)
    field: str | None  # its output field (None: the whole output)
    shown: str  # as the marketer wrote it, e.g. steps.hook.body.id


def template_fields(schema: Schema, config: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every template field of a config, nested ones included."""
    if not isinstance(config, dict):
        return
    for name, field in schema.fields.items():
        value = config.get(name)
        if isinstance(field, Template) and isinstance(value, str):
            yield prefix + name, value
        elif isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            yield from template_fields(field.schema, value, f"{prefix}{name}.")
        elif isinstance(field, fields.List) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(field.inner, Template) and isinstance(item, str):
                    yield f"{prefix}{name}.{index}", item
                elif isinstance(field.inner, fields.Nested):
                    yield from template_fields(field.inner.schema, item, f"{prefix}{name}.{index}.")


def references(step: Step) -> list[StepRef]:
    """The run variables `step`'s templates read (templates that do not parse are the schema's to refuse)."""
    action = registry.get(step.type)
    if action is None:
        return []
    refs = []
    for path, text in template_fields(action.schema(), step.config):
        try:
            names = merge.names(text)
        except merge.MergeFieldError:
            continue
        for name in names:
            if name[0] == NAMESPACE:
                refs.append(StepRef(f"config.{path}", name[1] if len(name) > 1 else None,
                                    name[2] if len(name) > 2 else None, shown(name)))
    return refs


def kept_outputs(steps: dict[str, Step]) -> dict[str, frozenset[str]]:
    """{step id: the output fields later steps read}: all a run needs to keep."""
    kept: dict[str, set[str]] = {}
    for step in steps.values():
        for ref in references(step):
            if ref.step is not None and ref.field is not None:
                kept.setdefault(ref.step, set()).add(ref.field)
    return {step_id: frozenset(names) for step_id, names in kept.items()}


def output_fields(action: registry.Action) -> list[str]:
    """The top-level output fields an action type declares ("contact.first_name" declares "contact")."""
    return list(dict.fromkeys(key.split(".", 1)[0] for key in action.outputs))


def shown(name: tuple[str, ...]) -> str:
    return "".join(part if i == 0 else f".{part}" if part.isidentifier() else f"[{part!r}]"
                   for i, part in enumerate(name))
