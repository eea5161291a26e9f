"""Custom values (Settings > Custom values): account-level values every template reads as
{{ custom_values.<key> }}.

Every logged-in role reads the list: the builder's merge menu and the Update Custom Value step offer
them, and agents see the messages they end up in anyway. Only admins create, change and delete them.
The key is what workflows name, so it is fixed once created; the rules are in
builder.domain.custom_values.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate

from builder.api.base import blueprint, fail
from builder.domain import custom_values
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import CustomValue
from builder.schemas.fields import Text
from builder.schemas.timestamps import DateTime

bp = blueprint("api_custom_values", "/settings/custom-values", description="Account-level custom values")

_VALUE = Text(required=True, validate=validate.Length(max=custom_values.VALUE_MAX), metadata={
    "description": "the text templates read as {{ custom_values.<key> }} (may be empty)"})


def _key(value: str) -> None:
    if not custom_values.KEY.fullmatch(value):
        raise ValidationError(custom_values.KEY_RULE)


class CustomValueIn(Schema):
    key = fields.String(required=True, validate=_key, metadata={
        "description": "what templates name: {{ custom_values.<key> }}; fixed once created"})
    value = _VALUE


class CustomValuePatch(Schema):
    value = _VALUE


class CustomValueOut(Schema):
    key = fields.String()
    value = fields.String()
    updated_at = DateTime()


class CustomValueList(Schema):
    values = fields.List(fields.Nested(CustomValueOut))


def _found(key: str) -> CustomValue:
    row = custom_values.find_value(g.user.account_id, key)
    if row is None:
        fail(404, f"No custom value has the key {key}.")
    return row


@bp.get("")
@bp.response(200, CustomValueList)
def list_values():
    """The account's custom values, by key."""
    return {"values": custom_values.account_values(g.user.account_id)}


# require_role sits above @bp.arguments: the role is checked before the body is.
@bp.post("")
@require_role(*ADMINS)
@bp.arguments(CustomValueIn)
@bp.response(201, CustomValueOut)
def create_value(data: dict[str, Any]):
    """Define a custom value."""
    row = custom_values.create_value(g.user, data)
    db.session.commit()
    return row


@bp.patch("/<value_key>")
@require_role(*ADMINS)
@bp.arguments(CustomValuePatch)
@bp.response(200, CustomValueOut)
def update_value(data: dict[str, Any], value_key: str):
    """Change a custom value (the key stays)."""
    row = _found(value_key)
    custom_values.update_value(g.user, row, data["value"])
    db.session.commit()
    return row


@bp.delete("/<value_key>")
@require_role(*ADMINS)
@bp.response(204)
def delete_value(value_key: str):
    """Remove a custom value. 409 while a published workflow reads or sets it."""
    custom_values.delete_value(g.user, _found(value_key))
    db.session.commit()
