from marshmallow import Schema

from engine.registry import Action, Outcome, Result, register


class EndConfig(Schema):
    pass


@register
class End(Action):
    type = "end"
    label = "End Workflow"
    category = "Internal Tools"
    description = "Ends the workflow for the contact."
    schema = EndConfig
    exit_layout = {"kind": "none"}

    def exit_fields(self, step):
        return []

    def run(self, ctx):
        return Result(Outcome.ENDED)
