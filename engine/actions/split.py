"""Split (HighLevel's Split): send contacts down one of 2 to 5 paths by percentage, as a split test.

The path is dealt from a hash of (workflow id, step id, contact id), not drawn at random and stored:
the same contact always lands on the same path of a step, so one who re-enters follows the path they
took before, with nothing to store or clean up, and every run and test is reproducible. Over many
contacts the hash is uniform, so the shares match the percentages. Editing the percentages moves the
boundaries between paths, so some contacts are dealt to another path from then on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.registry import Action, Result, register

MIN_PATHS, MAX_PATHS = 2, 5
TOTAL = 100


class PathSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=100))
    percent = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=TOTAL),
                             metadata={"label": "Percent of contacts"})
    next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})


STARTING_PATHS = [{"name": "Path A", "percent": 50, "next": None}, {"name": "Path B", "percent": 50, "next": None}]


class SplitConfig(Schema):
    paths = fields.List(
        fields.Nested(PathSchema, metadata={"label": "Path"}), required=True,
        validate=validate.Length(min=MIN_PATHS, max=MAX_PATHS),
        metadata={"label": "Paths", "example": STARTING_PATHS,
                  "help": f"{MIN_PATHS} to {MAX_PATHS} paths; the percentages must add up to {TOTAL}. "
                          "A contact who enters again takes the same path."},
    )

    @validates_schema(skip_on_field_errors=True)
    def _check_paths(self, data: dict[str, Any], **_: Any) -> None:
        paths = data["paths"]
        seen: set[str] = set()
        for index, path in enumerate(paths):
            name = path["name"].strip().casefold()
            if not name:
                raise ValidationError({"paths": {index: {"name": [f"Give path {index + 1} a name."]}}})
            if name in seen:
                raise ValidationError({"paths": {index: {"name": [
                    f"Path {index + 1} has the same name as an earlier path; give each path its own name."]}}})
            seen.add(name)
        total = sum(path["percent"] for path in paths)
        if total != TOTAL:
            raise ValidationError(f"The percentages add up to {total}; they must total {TOTAL}.", "paths")


def bucket(workflow_id: int, step_id: str, contact_id: int) -> int:
    """The contact's place in 0..99 for this step: stable, and uniform over contacts."""
    digest = hashlib.sha256(f"{workflow_id}:{step_id}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % TOTAL


def choose(paths: list[dict[str, Any]], place: int) -> int:
    """The index of the path whose share of 0..99 holds `place`, walking the cumulative percentages."""
    upper = 0
    for index, path in enumerate(paths):
        upper += path["percent"]
        if place < upper:
            return index
    return len(paths) - 1  # unreachable for a valid config (they total 100)


@register
class Split(Action):
    type = "split"
    label = "Split"
    category = "Internal Tools"
    description = ("Sends each contact down one of 2 to 5 paths by percentage (a split test); "
                   "a contact who enters again keeps their path.")
    schema = SplitConfig
    # No "else": the paths are every way out. path_counts: the canvas shows the runs per path.
    exit_layout = {"kind": "branches", "list": "paths", "target": "next", "label": "name", "path_counts": True}
    outputs = {"path": "Path taken"}

    def exit_fields(self, step):
        return [(f"config.paths.{i}.next", p.get("next")) for i, p in enumerate(step.config.get("paths", []))]

    def run(self, ctx):
        paths = ctx.config["paths"]
        index = choose(paths, bucket(ctx.run.workflow_id, ctx.step.id, ctx.contact.id))
        return Result.go(paths[index]["next"], path=paths[index]["name"], index=index)
