"""Unsubscribe links: one signed, unguessable token per contact.

The token is the contact's id signed with SECRET_KEY (itsdangerous, its own salt), so only we can make
one and a link keeps working for as long as the email is kept. Rotating SECRET_KEY voids old links; the
page then says so, and the contact can still reply to ask.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from builder.integrations import sealing

_SALT = "flowdesk email unsubscribe v1"
PATH = "/unsubscribe/"
LOCAL_URL = "http://localhost:5000"  # where console emails point when PUBLIC_URL is not set


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(sealing.app_secret(), salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def token_for(contact_id: int) -> str:
    return str(_serializer().dumps(contact_id))


def contact_id_for(token: str) -> int | None:
    """The contact the token was made for, or None if it is not one of ours."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def public_base() -> str | None:
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/") or None


def url_for_contact(contact_id: int, base: str) -> str:
    return base.rstrip("/") + PATH + token_for(contact_id)
