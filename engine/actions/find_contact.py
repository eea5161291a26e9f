"""Find Contact: look a contact of the account up by phone, email or a custom field; go down Found or Not found.

The found contact's id and fields go in the step's output (the execution log shows them). Deleted contacts
and other accounts' contacts are never found; when several match, the oldest is.
"""

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.actions.fields import Template
from engine.registry import Action, Result, register

CUSTOM_KEY = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
VALUE_MAX = 2000
BY_LABELS = {"phone": "Phone", "email": "Email", "custom_field": "Custom field"}


def check_custom_key(value: str) -> None:
    if not CUSTOM_KEY.match(value or ""):
        raise ValidationError("Use custom.<key>, with the key of a custom field (Settings > Custom fields).")


def contact_fields(contact) -> dict[str, Any]:
    """A contact as step outputs show it."""
    return {
        "id": contact.id,
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "email": contact.email,
        "phone": contact.phone,
        "timezone": contact.timezone,
        "tags": list(contact.tags),
        "custom_fields": dict(contact.custom_fields or {}),
        "assigned_user_id": contact.assigned_user_id,
        "dnd_sms": bool(contact.dnd_sms),
        "dnd_call": bool(contact.dnd_call),
        "dnd_email": bool(contact.dnd_email),
        "engagement_score": contact.engagement_score or 0,
    }


class FindContactConfig(Schema):
    by = fields.String(load_default="phone", validate=validate.OneOf(list(BY_LABELS)),
                       metadata={"label": "Find by", "choice_labels": BY_LABELS})
    custom_field = fields.String(load_default=None, allow_none=True, validate=check_custom_key,
                                 metadata={"label": "Custom field", "help": "custom.<key>, e.g. custom.member_id",
                                           "required_if": {"field": "by", "value": "custom_field"},
                                           "shown_if": {"field": "by", "in": ["custom_field"]}})
    value = Template(required=True, validate=validate.Length(min=1, max=VALUE_MAX),
                     metadata={"label": "Value", "help": "What to look for; merge fields allowed."})
    found_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})
    not_found_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})

    @validates_schema
    def _custom_field_named(self, data, **_):
        if data["by"] == "custom_field" and not data.get("custom_field"):
            raise ValidationError("Name the custom field to look in.", "custom_field")


def lookup_value(ctx, by: str, field: str, value: str) -> tuple[Any, str | None]:
    """The value as stored for that field, or why it cannot be one."""
    if not value:
        return value, "the value to look for rendered empty"
    try:
        if by == "phone":
            return ctx.store.normalize_phone(value), None
        if by == "custom_field":
            key = field.removeprefix("custom.")
            return ctx.store.custom_values({key: value}).get(key), None
    except ValueError as exc:
        return value, f"{value!r} cannot be a {BY_LABELS[by].lower()} value: {exc}"
    return value, None


@register
class FindContact(Action):
    type = "find_contact"
    label = "Find Contact"
    category = "Contact"
    description = "Locates a contact in the system based on provided data (phone, email or a custom field)."
    schema = FindContactConfig
    outputs = {"found": "Found (true or false)", "contact_id": "Found contact's id",
               "contact.first_name": "Found contact's first name", "contact.last_name": "Found contact's last name",
               "contact.email": "Found contact's email", "contact.phone": "Found contact's phone"}
    exit_layout = {"kind": "named", "exits": [{"field": "found_next", "label": "Found"},
                                              {"field": "not_found_next", "label": "Not found"}]}

    def exit_fields(self, step):
        return [("config.found_next", step.config.get("found_next")),
                ("config.not_found_next", step.config.get("not_found_next"))]

    def run(self, ctx):
        cfg = ctx.config
        by = cfg["by"]
        field = cfg["custom_field"] if by == "custom_field" else by
        wanted, problem = lookup_value(ctx, by, field, ctx.render(cfg["value"]).strip())
        if problem:
            return Result.go(cfg["not_found_next"], found=False, field=field, reason=problem)
        found = ctx.store.find_contact(field, wanted) if wanted not in (None, "") else None
        if found is None:
            return Result.go(cfg["not_found_next"], found=False, field=field, value=wanted,
                             reason=f"no contact has {field} {wanted}")
        return Result.go(cfg["found_next"], found=True, field=field, value=wanted, contact_id=found.id,
                         contact=contact_fields(found))
