"""Team members: the list for admins and managers, and each user's own profile (name, the phone calls
ring, password). Admins manage the team under /api/team (builder.api.team)."""

from typing import Any

from flask import current_app, g, jsonify
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates, validates_schema
from sqlalchemy import select

from builder.api.base import blueprint
from builder.domain.access import EDITORS
from builder.domain.phones import normalize_phone
from builder.domain.users import change_password
from builder.extensions import db
from builder.http import throttle
from builder.http.auth import current_session_hash, require_role
from builder.models import User
from builder.schemas.fields import Text

bp = blueprint("api_users", "/users", description="Team members")

MIN_PASSWORD = 8  # as the `flask users` commands ask


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()


class ProfileSchema(UserSchema):
    phone = fields.String(allow_none=True)


class ProfilePatch(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
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
    """Change your own name, or set or clear your phone number (stored in E.164)."""
    user = db.session.get(User, g.user.id)
    if "name" in data:
        user.name = data["name"]
    if "phone" in data:
        phone = data["phone"]
        user.phone = normalize_phone(phone, current_app.config["DEFAULT_PHONE_REGION"]) if phone else None
    db.session.commit()
    return user


class PasswordChange(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=128))
    new_password = fields.String(required=True, validate=validate.Length(
        min=MIN_PASSWORD, max=128, error=f"Use {MIN_PASSWORD} to 128 characters."))

    @validates_schema(skip_on_field_errors=True)
    def _new(self, data: dict[str, Any], **_: Any) -> None:
        if data["new_password"] == data["current_password"]:
            raise ValidationError("Choose a password other than the current one.", "new_password")


@bp.post("/me/password")
@bp.arguments(PasswordChange)
@bp.response(204)
@bp.alt_response(429, description="Too many wrong current passwords (counted with failed logins): "
                 "error code too_many_attempts; wait the Retry-After header's seconds")
def change_my_password(data: dict[str, Any]):
    """Change your own password (the current one is required); your other browser sessions end.

    Wrong current passwords count with failed logins for the same person: past the limit, a 429."""
    user = db.session.get(User, g.user.id)
    try:
        attempt = throttle.begin(user.email, user.id)
    except throttle.TooManyAttempts as exc:
        body = {"error": {"code": "too_many_attempts",
                          "message": f"Too many failed attempts; try again in {exc.retry_after} s."}}
        return jsonify(body), 429, {"Retry-After": str(exc.retry_after)}
    change_password(user, data["current_password"], data["new_password"], keep_session=current_session_hash())
    attempt.succeeded()
    db.session.commit()
    return None
