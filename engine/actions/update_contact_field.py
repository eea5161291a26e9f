import re

from marshmallow import Schema, ValidationError, fields, validate

from engine.actions.fields import Template
from engine.registry import Action, Result, register

# Standard fields a workflow may set; anything else is a custom field key.
STANDARD_FIELDS = ("first_name", "last_name", "email", "timezone")
_CUSTOM = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_field(value: str) -> None:
    if value not in STANDARD_FIELDS and not _CUSTOM.match(value):
        raise ValidationError(f"Use one of {', '.join(STANDARD_FIELDS)}, or custom.<key>.")


class UpdateContactFieldConfig(Schema):
    field = fields.String(required=True, validate=_check_field)
    value = Template(required=True, validate=validate.Length(max=2000))


@register
class UpdateContactField(Action):
    type = "update_contact_field"
    label = "Update Contact Field"
    category = "Contact"
    description = "Sets a standard or custom field on the contact."
    schema = UpdateContactFieldConfig

    def run(self, ctx):
        name = ctx.config["field"]
        value = ctx.render(ctx.config["value"])
        ctx.store.set_field(ctx.contact, name, value)
        return Result.go(ctx.step.next, field=name, value=value)
