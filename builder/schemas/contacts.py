"""Contacts as the API takes and gives them, and as the inbound-webhook trigger maps them."""

from __future__ import annotations

import math
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from builder.domain.phones import normalize_phone
from builder.schemas.fields import Flag, Id, Text, at_most_keys
from builder.schemas.timestamps import DateTime


class Phone(Text):
    def _deserialize(self, value, attr, data, **kwargs) -> str | None:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not raw:
            return None
        try:
            return normalize_phone(raw, current_app.config["DEFAULT_PHONE_REGION"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


SCALAR_TEXT_MAX = 1000


class Scalar(fields.Field):
    """A custom field value: a string, a finite number or a boolean."""

    default_error_messages = {"invalid": "Must be a string, a number or a boolean."}
    _text = Text(validate=validate.Length(max=SCALAR_TEXT_MAX))

    def __init__(self, **kwargs: Any):
        # Documented as what it takes, so that generated clients and fuzzers know.
        kwargs.setdefault("metadata", {}).setdefault("anyOf", [
            {"type": "string", "maxLength": SCALAR_TEXT_MAX}, {"type": "number"}, {"type": "boolean"}])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str | int | float | bool:
        if isinstance(value, bool | int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        if isinstance(value, str):
            return self._text.deserialize(value)
        raise self.make_error("invalid")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _valid_timezone(name: str) -> None:
    if name not in _timezones():
        raise ValidationError("Not a known IANA time zone (e.g. America/New_York, Europe/London, UTC).")


class ContactFields(Schema):
    first_name = Text(validate=validate.Length(max=100))
    last_name = Text(validate=validate.Length(max=100))
    email = Text(allow_none=True, validate=[validate.Length(max=254), validate.Email()])
    phone = Phone(allow_none=True, metadata={"description": "any usual format; stored in E.164"})
    timezone = Text(validate=_valid_timezone, metadata={"description": "IANA name, e.g. America/New_York"})
    tags = fields.List(Text(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=100))
    custom_fields = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=100)), values=Scalar(allow_none=True),
        validate=at_most_keys(100), metadata={"description": "name -> string, number or boolean (null removes it)",
                                              "maxProperties": 100},
    )
    assigned_user_id = Id(allow_none=True)
    dnd_sms = Flag(metadata={"description": "do not text this contact"})
    dnd_call = Flag(metadata={"description": "do not call this contact"})
    dnd_email = Flag(metadata={"description": "do not email this contact"})
    is_test = Flag()

    @pre_load
    def blank_is_none(self, data: Any, **kwargs: Any) -> Any:
        # An emptied form field clears an optional value instead of failing validation.
        if isinstance(data, dict) and data.get("email") == "":
            return {**data, "email": None}
        return data


class ContactCreate(ContactFields):
    @validates_schema
    def has_identity(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(name) for name in ("first_name", "last_name", "email", "phone")):
            raise ValidationError("Give the contact a name, an email or a phone number.")


class ContactPatch(ContactFields):
    pass


class ContactSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    timezone = fields.String()
    tags = fields.List(fields.String())
    custom_fields = fields.Dict()
    assigned_user_id = fields.Integer(allow_none=True)
    dnd_sms = fields.Boolean()
    dnd_call = fields.Boolean()
    dnd_email = fields.Boolean()
    # Read-only here: workflows move it (Modify Contact Engagement Score).
    engagement_score = fields.Integer(dump_only=True)
    is_test = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()

