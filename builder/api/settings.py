"""Account settings (admins only): the account's Twilio credentials and sender.

The auth token is write-only: it is stored encrypted, and reads only say whether
one is set. Leave it out of a PUT to keep the stored one.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from builder.api.base import blueprint, fail
from builder.domain import audit
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.integrations import twilio_settings
from builder.schemas.contacts import Phone
from builder.schemas.fields import Text
from builder.schemas.timestamps import DateTime

bp = blueprint("api_settings", "/settings", description="Account settings (admins)")

ACCOUNT_SID = validate.Regexp(r"^AC[0-9a-zA-Z]{32}\Z",
                              error="An Account SID starts with AC and is 34 letters and digits long.")
SERVICE_SID = validate.Regexp(r"^MG[0-9a-zA-Z]{32}\Z",
                              error="A Messaging Service SID starts with MG and is 34 letters and digits long.")
AUTH_TOKEN = validate.Regexp(r"^\S{16,128}\Z", error="An auth token is 16 to 128 characters, without spaces.")


class TwilioSettingsIn(Schema):
    account_sid = Text(required=True, validate=ACCOUNT_SID)
    auth_token = Text(load_default=None, allow_none=True, validate=AUTH_TOKEN,
                      metadata={"description": "write-only; leave out (or null) to keep the stored token"})
    from_number = Phone(load_default=None, allow_none=True,
                        metadata={"description": "E.164; sends SMS unless a Messaging Service is set, places calls"})
    messaging_service_sid = Text(load_default=None, allow_none=True, validate=SERVICE_SID,
                                 metadata={"description": "sends SMS through the service's sender pool"})

    @validates_schema
    def has_sender(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("from_number") and not data.get("messaging_service_sid"):
            raise ValidationError("Give a from number or a Messaging Service SID (or both).", "from_number")


class TwilioSettingsOut(Schema):
    source = fields.String(metadata={"description": "account (its own settings), environment (TWILIO_*) or none"})
    account_sid = fields.String(allow_none=True)
    from_number = fields.String(allow_none=True)
    messaging_service_sid = fields.String(allow_none=True)
    auth_token_set = fields.Boolean(metadata={"description": "the token itself is never returned"})
    updated_at = DateTime(allow_none=True)


def _current(account_id: int) -> dict[str, Any]:
    row = twilio_settings.stored(account_id)
    if row is not None:
        return {"source": "account", "account_sid": row.account_sid, "from_number": row.from_number,
                "messaging_service_sid": row.messaging_service_sid, "auth_token_set": True,
                "updated_at": row.updated_at}
    env = twilio_settings.environment_credentials()
    if env is not None:
        return {"source": "environment", "account_sid": env.account_sid, "from_number": env.from_number,
                "messaging_service_sid": env.messaging_service_sid, "auth_token_set": True, "updated_at": None}
    return {"source": "none", "account_sid": None, "from_number": None, "messaging_service_sid": None,
            "auth_token_set": False, "updated_at": None}


@bp.get("/twilio")
@require_role(*ADMINS)
@bp.response(200, TwilioSettingsOut)
def get_twilio():
    """The account's Twilio settings (without the auth token)."""
    return _current(g.user.account_id)


@bp.put("/twilio")
@require_role(*ADMINS)
@bp.arguments(TwilioSettingsIn)
@bp.response(200, TwilioSettingsOut)
def put_twilio(data: dict[str, Any]):
    """Save the account's Twilio settings; its SMS and calls then go through Twilio."""
    row = twilio_settings.stored(g.user.account_id)
    if data["auth_token"] is None and (row is None or row.account_sid != data["account_sid"]):
        message = "Enter the auth token of this Twilio account."
        fail(422, f"auth_token: {message}", {"auth_token": [message]})
    twilio_settings.save(g.user.account_id, user_id=g.user.id, **data)
    audit.settings_event(g.user, audit.TWILIO_SAVED, account_sid=data["account_sid"],
                         token_changed=data["auth_token"] is not None)
    db.session.commit()
    return _current(g.user.account_id)


@bp.delete("/twilio")
@require_role(*ADMINS)
@bp.response(204)
def delete_twilio():
    """Forget the account's own settings: the environment's TWILIO_* apply again, else the console provider."""
    twilio_settings.delete(g.user.account_id)
    audit.settings_event(g.user, audit.TWILIO_REMOVED)
    db.session.commit()
