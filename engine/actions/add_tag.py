from marshmallow import Schema

from engine.actions.fields import TAG_MAX, tag
from engine.registry import Action, Result, register


class AddTagConfig(Schema):
    tag = tag()


def existing_tag(contact, wanted: str) -> str | None:
    """The contact's tag that matches `wanted`; tags compare case-insensitively, as conditions do."""
    folded = wanted.casefold()
    return next((t for t in contact.tags if t.casefold() == folded), None)


def rendered_tag(ctx) -> tuple[str, str | None]:
    """The tag to act on, and why it cannot be used (or None)."""
    name = ctx.render(ctx.config["tag"]).strip()
    if not name:
        return name, "tag rendered empty"
    if len(name) > TAG_MAX:
        return name, f"tag is longer than {TAG_MAX} characters"
    return name, None


@register
class AddTag(Action):
    type = "add_tag"
    label = "Add Contact Tag"
    category = "Contact"
    description = "Adds a tag to the contact."
    schema = AddTagConfig
    outputs = {"tag": "Tag"}

    def run(self, ctx):
        name, problem = rendered_tag(ctx)
        if problem:
            return Result.skip(ctx.step.next, problem, tag=name[:TAG_MAX])
        if existing_tag(ctx.contact, name) is None and ctx.store.add_tag(ctx.contact, name):
            return Result.go(ctx.step.next, tag=name)
        return Result.skip(ctx.step.next, "contact already has the tag", tag=name)
