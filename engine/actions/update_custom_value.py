"""Update Custom Value: set one of the account's custom values (Settings > Custom values), which every
template reads as {{ custom_values.<key> }}. The new value is a template; later steps of this run and
other runs read it from then on. Saving checks that the key is one of the account's
(builder.domain.custom_values)."""

import re

from marshmallow import Schema, ValidationError, fields, validate

from engine.actions.fields import Template
from engine.registry import Action, Result, register

KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")  # as builder.domain.custom_fields.KEY
VALUE_MAX = 2000  # as builder.domain.custom_values.VALUE_MAX


def _check_key(value: str) -> None:
    if not KEY.fullmatch(value):
        raise ValidationError("Choose one of the account's custom values (Settings > Custom values).")


class UpdateCustomValueConfig(Schema):
    key = fields.String(required=True, validate=_check_key, metadata={
        "label": "Custom value", "help": "The key of one of the account's custom values (Settings > Custom values)",
        "suggest": "custom_values"})
    value = Template(required=True, validate=validate.Length(max=VALUE_MAX),
                     metadata={"label": "New value", "help": "Merge fields allowed; may be empty"})


@register
class UpdateCustomValue(Action):
    type = "update_custom_value"
    label = "Update Custom Value"
    category = "Internal Tools"
    description = "Sets one of the account's custom values ({{ custom_values.<key> }}) for every workflow."
    schema = UpdateCustomValueConfig
    outputs = {"value": "New value", "previous": "Previous value"}

    def run(self, ctx):
        key = ctx.config["key"]
        value = ctx.render(ctx.config["value"]).strip()
        if len(value) > VALUE_MAX:
            return Result.skip(ctx.step.next, f"value is longer than the {VALUE_MAX} characters a custom value holds",
                               key=key)
        previous = ctx.store.set_account_custom_value(key, value)
        if previous is None:
            # Deleted since the version was saved: deleting refuses while a published version sets it, but a
            # draft's test run or a run of an older version may still name it.
            return Result.skip(ctx.step.next, f"the account has no custom value {key!r}", key=key)
        return Result.go(ctx.step.next, key=key, value=value, previous=previous)
