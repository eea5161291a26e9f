from marshmallow import Schema

from engine.actions.fields import TAG
from engine.registry import Action, Result, register


class RemoveTagConfig(Schema):
    tag = TAG


@register
class RemoveTag(Action):
    type = "remove_tag"
    label = "Remove Contact Tag"
    category = "Contact"
    description = "Removes a tag from the contact."
    schema = RemoveTagConfig

    def run(self, ctx):
        tag = ctx.render(ctx.config["tag"]).strip()
        if ctx.store.remove_tag(ctx.contact, tag):
            return Result.go(ctx.step.next, tag=tag)
        return Result.skip(ctx.step.next, "contact did not have the tag", tag=tag)
