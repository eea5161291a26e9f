"""Branch on contact fields and tags; the first matching branch wins, else `else_next`."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import conditions
from engine.registry import Action, Result, register


class ConditionSchema(Schema):
    field = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(sorted(conditions.OPERATORS)))
    value = fields.Raw(load_default=None, allow_none=True)

    @validates_schema
    def _check(self, data, **_):
        if not conditions.valid_field(data["field"]):
            raise ValidationError(
                "Use contact.<field> (first_name, last_name, email, phone, timezone, tags) "
                "or contact.custom.<key>.",
                "field",
            )
        if data["op"] in conditions.NEEDS_VALUE and data.get("value") in (None, ""):
            raise ValidationError(f"The {data['op']} operator needs a value.", "value")


class BranchSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    match = fields.String(load_default="all", validate=validate.OneOf(["all", "any"]))
    conditions = fields.List(fields.Nested(ConditionSchema), required=True, validate=validate.Length(min=1))
    next = fields.String(load_default=None, allow_none=True)


class IfElseConfig(Schema):
    branches = fields.List(fields.Nested(BranchSchema), required=True, validate=validate.Length(min=1, max=10))
    else_next = fields.String(load_default=None, allow_none=True)


@register
class IfElse(Action):
    type = "if_else"
    label = "If / Else"
    category = "Internal Tools"
    description = "Sends the contact down the first branch whose conditions match."
    schema = IfElseConfig

    def exits(self, step):
        return [b.get("next") for b in step.config.get("branches", [])] + [step.config.get("else_next")]

    def run(self, ctx):
        for index, branch in enumerate(ctx.config["branches"]):
            checks = (conditions.matches(ctx.contact, c) for c in branch["conditions"])
            if (all if branch["match"] == "all" else any)(checks):
                return Result.go(branch["next"], branch=index, branch_name=branch["name"])
        return Result.go(ctx.config["else_next"], branch="else")
