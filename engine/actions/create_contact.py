"""Create Contact: a new contact from merge values, or the existing one with that phone or email.

Its phone is normalised to E.164 and its custom values checked as everywhere else; the contact is
created through the app's one creation path, so "contact created" (and "tag added") workflows start
for the NEW contact. An existing contact of the account (not deleted) with the phone, else the email,
is updated with the non-empty values (`if_exists: "update"`) or left alone (`"skip"`).
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.actions.fields import Template
from engine.actions.find_contact import check_custom_key, contact_fields
from engine.registry import Action, Result, register

NAME_MAX, EMAIL_MAX, PHONE_MAX, CUSTOM_MAX = 100, 254, 40, 2000
_EMAIL = validate.Email()


class CustomValue(Schema):
    field = fields.String(required=True, validate=check_custom_key,
                          metadata={"label": "Field", "help": "custom.<key>, e.g. custom.source"})
    value = Template(required=True, validate=validate.Length(max=CUSTOM_MAX))


class CreateContactConfig(Schema):
    first_name = Template(load_default="", validate=validate.Length(max=1000), metadata={"label": "First name"})
    last_name = Template(load_default="", validate=validate.Length(max=1000), metadata={"label": "Last name"})
    email = Template(load_default="", validate=validate.Length(max=1000), metadata={"label": "Email"})
    # Required while the email is empty: a contact is found again by its phone or email.
    phone = Template(validate=validate.Length(max=1000),
                     metadata={"label": "Phone", "help": "Any usual format; stored as +1…",
                               "required_if": {"field": "email", "value": ""}})
    custom_fields = fields.List(fields.Nested(CustomValue, metadata={"label": "Custom field"}), load_default=list,
                                validate=validate.Length(max=50), metadata={"label": "Custom fields"})
    if_exists = fields.String(load_default="update", validate=validate.OneOf(["update", "skip"]),
                              metadata={"label": "If a contact with this phone or email exists",
                                        "choice_labels": {"update": "Update it", "skip": "Leave it as it is"}})

    @validates_schema
    def _has_identity(self, data, **_):
        if not (data.get("phone") or "").strip() and not (data.get("email") or "").strip():
            raise ValidationError("Give a phone or an email (merge fields allowed).", "phone")
        keys = [item["field"] for item in data.get("custom_fields") or []]
        if len(set(keys)) != len(keys):
            raise ValidationError("Each custom field may appear once.", "custom_fields")


def rendered(ctx) -> tuple[dict[str, str], dict[str, str], str | None]:
    """The standard and custom values after merge fields, and why they cannot make a contact (or None)."""
    cfg = ctx.config
    values = {name: ctx.render(cfg.get(name) or "").strip() for name in ("first_name", "last_name", "email", "phone")}
    custom = {item["field"].removeprefix("custom."): ctx.render(item["value"]).strip()
              for item in cfg.get("custom_fields") or []}
    custom = {key: value for key, value in custom.items() if value}  # an empty merge value sets nothing
    limits = {"first_name": NAME_MAX, "last_name": NAME_MAX, "email": EMAIL_MAX, "phone": PHONE_MAX}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            return values, custom, f"{name} is longer than {limit} characters after merge fields"
    for key, value in custom.items():
        if len(value) > CUSTOM_MAX:
            return values, custom, f"custom.{key} is longer than {CUSTOM_MAX} characters after merge fields"
    if not values["phone"] and not values["email"]:
        return values, custom, "phone and email rendered empty: a contact needs one of them"
    if values["email"]:
        try:
            _EMAIL(values["email"])
        except ValidationError:
            return values, custom, f"{values['email']!r} is not a valid email address"
    return values, custom, None


@register
class CreateContact(Action):
    type = "create_contact"
    label = "Create Contact"
    category = "Contact"
    description = ("Adds a new contact to the system, useful for managing new leads; "
                   "one with the same phone or email is updated or left alone.")
    schema = CreateContactConfig
    outputs = {"action": "Created, updated or skipped", "contact_id": "Contact's id",
               "contact.first_name": "Contact's first name", "contact.last_name": "Contact's last name",
               "contact.email": "Contact's email", "contact.phone": "Contact's phone"}

    def run(self, ctx):
        values, custom, problem = rendered(ctx)
        if problem:
            return Result.skip(ctx.step.next, problem)
        try:
            if values["phone"]:
                values["phone"] = ctx.store.normalize_phone(values["phone"])
        except ValueError as exc:
            return Result.skip(ctx.step.next, f"phone {values['phone']!r}: {exc}")
        try:
            custom = ctx.store.custom_values(custom) if custom else {}
        except ValueError as exc:
            return Result.skip(ctx.step.next, str(exc))
        matched_by, existing = self._existing(ctx, values)
        if existing is not None:
            if ctx.config["if_exists"] == "skip":
                return Result.skip(ctx.step.next, f"a contact with this {matched_by} exists; left as it is",
                                   action="skipped", matched_by=matched_by, contact_id=existing.id,
                                   contact=contact_fields(existing))
            changes = {name: value for name, value in values.items() if value}  # blanks never wipe a field
            if custom:
                changes["custom_fields"] = custom
            ctx.store.update_contact(existing, changes)
            return Result.go(ctx.step.next, action="updated", matched_by=matched_by, contact_id=existing.id,
                             contact=contact_fields(existing))
        created = ctx.store.create_contact(ctx.run, {
            "first_name": values["first_name"], "last_name": values["last_name"],
            "email": values["email"] or None, "phone": values["phone"] or None, "custom_fields": custom})
        return Result.go(ctx.step.next, action="created", contact_id=created.id, contact=contact_fields(created))

    @staticmethod
    def _existing(ctx, values):
        for name in ("phone", "email"):
            if values[name]:
                found = ctx.store.find_contact(name, values[name])
                if found is not None:
                    return name, found
        return None, None
