"""Branch on contact fields and tags; the first matching branch wins, else `else_next`."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import conditions
from engine.registry import Action, Result, register


class ConditionSchema(Schema):
    field = fields.String(required=True, metadata={"kind": "condition_field"})
    op = fields.String(required=True, validate=validate.OneOf(sorted(conditions.OPERATORS)),
                       metadata={"label": "Operator", "example": "is_not_empty"})
    value = fields.Raw(load_default=None, allow_none=True,
                       metadata={"shown_if": {"field": "op", "in": sorted(conditions.NEEDS_VALUE)}})

    @validates_schema
    def _check(self, data, **_):
        if not conditions.valid_field(data["field"]):
            raise ValidationError(
                f"Use contact.<field> ({', '.join(conditions.STANDARD_FIELDS)}) or contact.custom.<key>.", "field"
            )
        if not conditions.valid_operator(data["field"], data["op"]):
            if data["field"] == "contact.tags":
                raise ValidationError(f"For contact.tags use {', '.join(sorted(conditions.TAG_OPERATORS))}.", "op")
            raise ValidationError(f"{data['op']} works on contact.tags only.", "op")
        if data["op"] in conditions.NEEDS_VALUE and data.get("value") in (None, ""):
            raise ValidationError(f"The {data['op']} operator needs a value.", "value")
        if data["op"] in conditions.NUMERIC and conditions.as_number(data["value"]) is None:
            raise ValidationError(f"The {data['op']} operator needs a number.", "value")


class BranchSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    match = fields.String(load_default="all", validate=validate.OneOf(["all", "any"]))
    conditions = fields.List(fields.Nested(ConditionSchema, metadata={"label": "Condition"}), required=True,
                             validate=validate.Length(min=1))
    next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})


class IfElseConfig(Schema):
    branches = fields.List(fields.Nested(BranchSchema, metadata={"label": "Branch"}), required=True,
                           validate=validate.Length(min=1, max=10))
    else_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})


@register
class IfElse(Action):
    type = "if_else"
    label = "If / Else"
    category = "Internal Tools"
    description = "Sends the contact down the first branch whose conditions match."
    schema = IfElseConfig
    exit_layout = {"kind": "branches", "list": "branches", "target": "next", "label": "name", "else": "else_next",
                   "else_label": "Else"}

    def exit_fields(self, step):
        branches = step.config.get("branches", [])
        return [(f"config.branches.{i}.next", b.get("next")) for i, b in enumerate(branches)] + [
            ("config.else_next", step.config.get("else_next"))
        ]

    def run(self, ctx):
        for index, branch in enumerate(ctx.config["branches"]):
            checks = (conditions.matches(ctx.contact, c) for c in branch["conditions"])
            if (all if branch["match"] == "all" else any)(checks):
                return Result.go(branch["next"], branch=index, branch_name=branch["name"])
        return Result.go(ctx.config["else_next"], branch="else")
