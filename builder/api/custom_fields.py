"""Custom fields (Settings > Custom fields): the contact fields the account defines.

Every logged-in role reads them (the contact form, the CSV import and the builder's pickers are
drawn from them); only admins create, change and delete them. The key is what contacts and
workflows use, so it is fixed once created; the rules are in builder.domain.custom_fields.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate

from builder.api.base import blueprint, fail
from builder.domain import custom_fields
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import CustomField
from builder.schemas.fields import Number, Text

bp = blueprint("api_custom_fields", "/settings/custom-fields", description="Custom contact fields")

_TYPE = validate.OneOf(CustomField.TYPES, error=f"Use one of {', '.join(CustomField.TYPES)}.")
_CHOICES = fields.List(Text(validate=validate.Length(min=1, max=100)), allow_none=True,
                       metadata={"description": "the options of a choice field (1 to 50)"})


def _key(value: str) -> None:
    if not custom_fields.KEY.fullmatch(value):
        raise ValidationError("A key is 1 to 64 lower-case letters, digits and underscores, starting with a letter.")


class CustomFieldIn(Schema):
    key = fields.String(required=True, validate=_key, metadata={
        "description": "what contacts store the value under and merge fields name: {{ contact.custom.<key> }}"})
    label = Text(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=_TYPE, metadata={"description": ", ".join(CustomField.TYPES)})
    choices = _CHOICES


class CustomFieldPatch(Schema):
    label = Text(validate=validate.Length(min=1, max=100))
    type = fields.String(validate=_TYPE)
    choices = _CHOICES
    position = Number(min=0, metadata={"description": "where it is shown, lowest first"})


class CustomFieldOut(Schema):
    key = fields.String()
    label = fields.String()
    type = fields.String()
    choices = fields.List(fields.String(), allow_none=True)


class CustomFieldList(Schema):
    fields_ = fields.List(fields.Nested(CustomFieldOut), data_key="fields")


def _listed(account_id: int) -> dict[str, Any]:
    return {"fields_": custom_fields.account_fields(account_id)}


def _found(key: str) -> CustomField:
    field = custom_fields.find_field(g.user.account_id, key)
    if field is None:
        fail(404, f"No custom field has the key {key}.")
    return field


@bp.get("")
@bp.response(200, CustomFieldList)
def list_fields():
    """The account's custom fields, in the order they are shown."""
    return _listed(g.user.account_id)


# require_role sits above @bp.arguments: the role is checked before the body is.
@bp.post("")
@require_role(*ADMINS)
@bp.arguments(CustomFieldIn)
@bp.response(201, CustomFieldOut)
def create_field(data: dict[str, Any]):
    """Define a custom field; it is shown last."""
    field = custom_fields.create_field(g.user.account_id, data)
    db.session.commit()
    return field


@bp.patch("/<field_key>")
@require_role(*ADMINS)
@bp.arguments(CustomFieldPatch)
@bp.response(200, CustomFieldOut)
def update_field(data: dict[str, Any], field_key: str):
    """Change a field's label, type, choices or position (the key stays)."""
    field = _found(field_key)
    custom_fields.update_field(field, data)
    db.session.commit()
    return field


@bp.delete("/<field_key>")
@require_role(*ADMINS)
@bp.response(204)
def delete_field(field_key: str):
    """Remove a field; contacts keep their values. 409 while a published workflow uses it."""
    custom_fields.delete_field(_found(field_key))
    db.session.commit()
