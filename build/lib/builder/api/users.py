"""Team members: the list for admins and managers, and each user's own profile (the phone calls ring)."""

from typing import Any

from flask import current_app, g
from marshmallow import Schema, ValidationError, fields, pre_load, validates
from sqlalchemy import select

from builder.api.base import blueprint
from builder.domain.access import EDITORS
from builder.domain.phones import normalize_phone
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import User

bp = blueprint("api_users", "/users", description="Team members")


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()


class ProfileSchema(UserSchema):
    phone = fields.String(allow_none=True)


class ProfilePatch(Schema):
    # The phone Manual Call rings first (Twilio), before it dials the contact.
    phone = fields.String(allow_none=True)

    @pre_load
    def _blank_is_none(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("phone"), str) and not data["phone"].strip():
            return {**data, "phone": None}
        return data

    @validates("phone")
    def _valid_phone(self, value: str | None, **_: Any) -> None:
        if value is not None:
            try:
                normalize_phone(value, current_app.config["DEFAULT_PHONE_REGION"])
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc


@bp.get("")
@bp.response(200, UserSchema(many=True))
@require_role(*EDITORS)
def list_users():
    """The account's users (admins and managers)."""
    return db.session.scalars(select(User).where(User.account_id == g.user.account_id).order_by(User.id)).all()


@bp.get("/me")
@bp.response(200, ProfileSchema)
def get_me():
    """Who is asking, with their phone."""
    return g.user


@bp.patch("/me")
@bp.arguments(ProfilePatch)
@bp.response(200, ProfileSchema)
def update_me(data: dict[str, Any]):
    """Set or clear your own phone number (stored in E.164)."""
    user = db.session.get(User, g.user.id)
    if "phone" in data:
        phone = data["phone"]
        user.phone = normalize_phone(phone, current_app.config["DEFAULT_PHONE_REGION"]) if phone else None
    db.session.commit()
    return user
