from marshmallow import Schema

from engine.actions.fields import TAG
from engine.registry import Action, Result, register


class AddTagConfig(Schema):
    tag = TAG


@register
class AddTag(Action):
    type = "add_tag"
    label = "Add Contact Tag"
    category = "Contact"
    description = "Adds a tag to the contact."
    schema = AddTagConfig

    def run(self, ctx):
        tag = ctx.render(ctx.config["tag"]).strip()
        if ctx.store.add_tag(ctx.contact, tag):
            return Result.go(ctx.step.next, tag=tag)
        return Result.skip(ctx.step.next, "contact already has the tag", tag=tag)
