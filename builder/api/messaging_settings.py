"""Messaging settings (admins only): opt-out / opt-in keywords and quiet hours.

Keywords are what a whole inbound message must be to turn SMS do-not-disturb on or off
(see jobqueue.replies). Quiet hours are the hours, in each contact's time zone, when
automated SMS go out (a Send SMS step outside them waits) and outside which a Manual SMS
sent now, one scheduled into them, or a Manual Call asks the agent to confirm
(`confirm_quiet_hours`; without it the API answers 409 with the code `quiet_hours`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from builder.api.base import blueprint
from builder.domain import audit
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import Account
from builder.schemas.fields import Flag
from engine.graph import HH_MM

bp = blueprint("api_messaging_settings", "/settings", description="Account settings (admins)")

RESERVED = {"HELP", "INFO"}  # they always get the automatic help reply
MAX_WORDS = 50


def _keyword(word: str) -> None:
    if not re.fullmatch(r"[^\W_]{1,30}", word):
        raise ValidationError("A keyword is one word of letters and digits (at most 30), without spaces.")
    if word in RESERVED:
        raise ValidationError(f"{word} always gets the automatic help reply; it cannot be a keyword here.")


class Keyword(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip().upper()


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))


class MessagingSettingsIn(Schema):
    opt_out_keywords = fields.List(Keyword(validate=_keyword), required=True,
                                   validate=validate.Length(min=1, max=MAX_WORDS, error="Give 1 to 50 opt-out words."),
                                   metadata={"description": "a message that is just one of these turns SMS DND on"})
    opt_in_keywords = fields.List(Keyword(validate=_keyword), required=True,
                                  validate=validate.Length(max=MAX_WORDS, error="Give at most 50 opt-in words."),
                                  metadata={"description": "a message that is just one of these turns SMS DND off"})
    quiet_hours_enabled = Flag(required=True)
    quiet_hours_start = fields.String(required=True, validate=HH_MM,
                                      metadata={"description": "automated SMS go out from (contact's time)"})
    quiet_hours_end = fields.String(required=True, validate=HH_MM, metadata={
        "description": "until (exclusive); before the start means overnight"})

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        both = sorted(set(data["opt_out_keywords"]) & set(data["opt_in_keywords"]))
        if both:
            raise ValidationError(f"{', '.join(both)} cannot both opt out and opt in.", "opt_in_keywords")
        if data["quiet_hours_start"] == data["quiet_hours_end"]:
            raise ValidationError("The hours must end at another time than they start.", "quiet_hours_end")

    @post_load
    def _dedupe(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "opt_out_keywords": _unique(data["opt_out_keywords"]),
                "opt_in_keywords": _unique(data["opt_in_keywords"])}


class Defaults(Schema):
    opt_out_keywords = fields.List(fields.String())
    opt_in_keywords = fields.List(fields.String())
    quiet_hours_start = fields.String()
    quiet_hours_end = fields.String()


class MessagingSettingsOut(Schema):
    opt_out_keywords = fields.List(fields.String())
    opt_in_keywords = fields.List(fields.String())
    quiet_hours_enabled = fields.Boolean()
    quiet_hours_start = fields.String()
    quiet_hours_end = fields.String()
    defaults = fields.Nested(Defaults, metadata={"description": "what a new account starts with"})


def _current(account: Account) -> dict[str, Any]:
    return {
        "opt_out_keywords": list(account.opt_out_words), "opt_in_keywords": list(account.opt_in_words),
        "quiet_hours_enabled": account.quiet_hours_enabled, "quiet_hours_start": account.quiet_hours_start,
        "quiet_hours_end": account.quiet_hours_end,
        "defaults": {"opt_out_keywords": list(Account.DEFAULT_OPT_OUT), "opt_in_keywords": list(Account.DEFAULT_OPT_IN),
                     "quiet_hours_start": "08:00", "quiet_hours_end": "21:00"},
    }


def _stored(words: list[str], default: tuple[str, ...]) -> list[str] | None:
    # The defaults are stored as null, so the account keeps following them.
    return None if words == list(default) else words


# require_role sits above @bp.arguments: the role is checked before the body is, so an agent's
# PUT is a 403 whatever it sends.
@bp.get("/messaging")
@require_role(*ADMINS)
@bp.response(200, MessagingSettingsOut)
def get_messaging():
    """The account's opt-out / opt-in keywords and quiet hours."""
    return _current(db.session.get(Account, g.user.account_id))


@bp.put("/messaging")
@require_role(*ADMINS)
@bp.arguments(MessagingSettingsIn)
@bp.response(200, MessagingSettingsOut)
def put_messaging(data: dict[str, Any]):
    """Replace the account's keywords and quiet hours."""
    account = db.session.get(Account, g.user.account_id)
    account.opt_out_keywords = _stored(data["opt_out_keywords"], Account.DEFAULT_OPT_OUT)
    account.opt_in_keywords = _stored(data["opt_in_keywords"], Account.DEFAULT_OPT_IN)
    account.quiet_hours_enabled = data["quiet_hours_enabled"]
    account.quiet_hours_start, account.quiet_hours_end = data["quiet_hours_start"], data["quiet_hours_end"]
    audit.settings_event(g.user, audit.MESSAGING_SAVED, **data)
    db.session.commit()
    return _current(account)


