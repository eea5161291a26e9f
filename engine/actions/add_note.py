from marshmallow import Schema, validate

from engine.actions.fields import Template
from engine.registry import Action, Result, register


class AddNoteConfig(Schema):
    body = Template(required=True, validate=validate.Length(min=1, max=10_000))


@register
class AddNote(Action):
    type = "add_note"
    label = "Add Note"
    category = "Contact"
    description = "Adds a note to the contact's record."
    schema = AddNoteConfig

    def run(self, ctx):
        body = ctx.render(ctx.config["body"])
        if not body.strip():
            return Result.skip(ctx.step.next, "rendered text is empty")  # an empty note says nothing
        ctx.store.add_note(ctx.run, ctx.contact, body, ctx.key)
        return Result.go(ctx.step.next, body=body)


