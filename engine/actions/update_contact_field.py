import re

from marshmallow import Schema, ValidationError, fields, validate

from engine.actions.fields import Template, time_zone
from engine.registry import Action, Result, register

# Standard fields a workflow may set, with the longest value each can hold;
# anything else is a custom field key.
STANDARD_FIELDS = {"first_name": 100, "last_name": 100, "email": 254, "timezone": 64}
CUSTOM_MAX = 2000
_CUSTOM = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_EMAIL = validate.Email()


def _check_field(value: str) -> None:
    if value not in STANDARD_FIELDS and not _CUSTOM.match(value):
        raise ValidationError(f"Use one of {', '.join(STANDARD_FIELDS)}, or custom.<key>.")


def problem_with(name: str, value: str) -> str | None:
    """Why the rendered value cannot be stored in that field, or None."""
    limit = STANDARD_FIELDS.get(name, CUSTOM_MAX)
    if len(value) > limit:
        return f"value is longer than the {limit} characters {name} can hold"
    if name == "timezone" and value and time_zone(value) is None:
        return f"{value!r} is not a known time zone"
    if name == "email" and value:
        try:
            _EMAIL(value)
        except ValidationError:
            return f"{value!r} is not a valid email address"
    return None


class UpdateContactFieldConfig(Schema):
    field = fields.String(required=True, validate=_check_field,
                          metadata={"help": f"{', '.join(STANDARD_FIELDS)}, or custom.<key>", "example": "first_name",
                                    "suggest": "contact_fields"})
    value = Template(required=True, validate=validate.Length(max=CUSTOM_MAX))


@register
class UpdateContactField(Action):
    type = "update_contact_field"
    label = "Update Contact Field"
    category = "Contact"
    description = "Sets a standard or custom field on the contact."
    schema = UpdateContactFieldConfig
    outputs = {"value": "Value written"}

    def run(self, ctx):
        name = ctx.config["field"]
        value = ctx.render(ctx.config["value"]).strip()
        problem = problem_with(name, value)
        if problem:
            # A bad value would fail the whole transaction at commit; skip it here instead.
            return Result.skip(ctx.step.next, problem, field=name)
        ctx.store.set_field(ctx.contact, name, value)
        return Result.go(ctx.step.next, field=name, value=value)
