from marshmallow import Schema

from engine.actions.add_tag import existing_tag, rendered_tag
from engine.actions.fields import TAG_MAX, tag
from engine.registry import Action, Result, register


class RemoveTagConfig(Schema):
    tag = tag()


@register
class RemoveTag(Action):
    type = "remove_tag"
    label = "Remove Contact Tag"
    category = "Contact"
    description = "Removes a tag from the contact."
    schema = RemoveTagConfig

    def run(self, ctx):
        name, problem = rendered_tag(ctx)
        if problem:
            return Result.skip(ctx.step.next, problem, tag=name[:TAG_MAX])
        found = existing_tag(ctx.contact, name)
        if found is not None and ctx.store.remove_tag(ctx.contact, found):
            return Result.go(ctx.step.next, tag=found)
        return Result.skip(ctx.step.next, "contact did not have the tag", tag=name)
