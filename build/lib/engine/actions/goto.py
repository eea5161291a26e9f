from marshmallow import Schema, fields

from engine.graph import STEP_ID
from engine.registry import Action, Result, register


class GotoConfig(Schema):
    target = fields.String(required=True, validate=STEP_ID, metadata={"kind": "step", "label": "Go to step"})


@register
class Goto(Action):
    type = "goto"
    label = "Go To"
    category = "Internal Tools"
    description = "Jumps to another step of this workflow."
    schema = GotoConfig
    exit_layout = {"kind": "goto", "field": "target"}

    def exit_fields(self, step):
        return [("config.target", step.config.get("target"))]

    def run(self, ctx):
        return Result.go(ctx.config["target"])
