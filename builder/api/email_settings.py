"""Settings > Email (admins only): the account's SMTP server and sender for Send Email steps.

The password is write-only: stored encrypted, reads only say whether one is set; leave it out of a PUT
to keep the stored one (or send `clear_password`). Without the account's settings the environment's
SMTP_* apply, and without those the console provider records emails in the conversation, sending none.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from marshmallow import Schema, fields, validate

from builder.api.base import blueprint
from builder.domain import audit
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.integrations import email_settings
from builder.schemas.fields import Flag, Text
from builder.schemas.timestamps import DateTime

bp = blueprint("api_email_settings", "/settings", description="Account settings (admins)")

EMAIL_SAVED = "settings.email_saved"
EMAIL_REMOVED = "settings.email_removed"
HOST = validate.Regexp(r"^[A-Za-z0-9.\-]{1,255}\Z", error="A host name or IP address, like smtp.example.com.")
ADDRESS = [validate.Length(max=254), validate.Email(error="Not a valid email address.")]


class EmailSettingsIn(Schema):
    host = Text(required=True, validate=HOST)
    port = fields.Integer(required=True, validate=validate.Range(min=1, max=65535))
    security = fields.String(load_default="starttls", validate=validate.OneOf(email_settings.SECURITY), metadata={
        "description": "starttls (usually port 587), tls (implicit TLS, usually 465) or none"})
    username = Text(load_default=None, allow_none=True, validate=validate.Length(max=255))
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                             metadata={"description": "write-only; leave out (or null) to keep the stored one"})
    clear_password = Flag(load_default=False, metadata={"description": "forget the stored password"})
    from_address = Text(required=True, validate=ADDRESS)
    from_name = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    reply_to = Text(load_default=None, allow_none=True, validate=ADDRESS)


class EmailSettingsOut(Schema):
    source = fields.String(metadata={"description": "account (its own settings), environment (SMTP_*) or "
                                                    "none (the console provider: emails are recorded, not sent)"})
    host = fields.String(allow_none=True)
    port = fields.Integer(allow_none=True)
    security = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    password_set = fields.Boolean(metadata={"description": "the password itself is never returned"})
    from_address = fields.String(allow_none=True)
    from_name = fields.String(allow_none=True)
    reply_to = fields.String(allow_none=True)
    public_url_set = fields.Boolean(metadata={"description": "PUBLIC_URL is set: SMTP sends need it for the "
                                                             "unsubscribe link"})
    updated_at = DateTime(allow_none=True)


def _current(account_id: int) -> dict[str, Any]:
    public = bool(current_app.config.get("PUBLIC_URL"))
    row = email_settings.stored(account_id)
    if row is not None:
        return {"source": "account", "host": row.host, "port": row.port, "security": row.security,
                "username": row.username, "password_set": row.password_encrypted is not None,
                "from_address": row.from_address, "from_name": row.from_name, "reply_to": row.reply_to,
                "public_url_set": public, "updated_at": row.updated_at}
    env = email_settings.environment_settings()
    if env is not None:
        return {"source": "environment", "host": env.host, "port": env.port, "security": env.security,
                "username": env.username, "password_set": env.password is not None,
                "from_address": env.from_address, "from_name": env.from_name, "reply_to": env.reply_to,
                "public_url_set": public, "updated_at": None}
    return {"source": "none", "password_set": False, "public_url_set": public, "updated_at": None}


@bp.get("/email")
@require_role(*ADMINS)
@bp.response(200, EmailSettingsOut)
def get_email():
    """The account's SMTP settings (without the password)."""
    return _current(g.user.account_id)


@bp.put("/email")
@require_role(*ADMINS)
@bp.arguments(EmailSettingsIn)
@bp.response(200, EmailSettingsOut)
def put_email(data: dict[str, Any]):
    """Save the account's SMTP settings; its Send Email steps then send through this server."""
    email_settings.save(g.user.account_id, user_id=g.user.id, **data)
    audit.settings_event(g.user, EMAIL_SAVED, host=data["host"],
                         password_changed=data["password"] is not None or data["clear_password"])
    db.session.commit()
    return _current(g.user.account_id)


@bp.delete("/email")
@require_role(*ADMINS)
@bp.response(204)
def delete_email():
    """Forget the account's own settings: the environment's SMTP_* apply again, else the console provider."""
    email_settings.delete(g.user.account_id)
    audit.settings_event(g.user, EMAIL_REMOVED)
    db.session.commit()
