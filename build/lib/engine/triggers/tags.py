"""Tag added / tag removed: the same config and rule, fired by opposite changes."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from engine.triggers.base import Event, NoTriggerConfig, Trigger, register


class TagTriggerConfig(NoTriggerConfig):
    tag = fields.String(required=True, validate=validate.Length(min=1, max=100))


class _TagTrigger(Trigger):
    schema = TagTriggerConfig

    def matches(self, config: dict[str, Any], event: Event) -> bool:
        # Tags compare without regard to case, as people type them both ways.
        return bool(event.tag) and str(config.get("tag", "")).casefold() == event.tag.casefold()


@register
class TagAdded(_TagTrigger):
    type = "contact_tag_added"
    label = "Contact tag added"
    order = 20
    description = "Starts when the contact gets the tag."


@register
class TagRemoved(_TagTrigger):
    type = "contact_tag_removed"
    label = "Contact tag removed"
    order = 30
    description = "Starts when the tag is taken off the contact."
