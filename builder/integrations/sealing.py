"""Secrets kept encrypted at rest (the Twilio auth token, the webhook signing secret, the Slack URL).

Fernet, with a key derived from SECRET_KEY by HKDF-SHA256 once per purpose: a value sealed for one
purpose never opens with another's key, and rotating SECRET_KEY makes every stored secret unreadable
(their settings say so and ask for them again) rather than readable with a stale key.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def app_secret() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else str(secret).encode()


@lru_cache(maxsize=16)
def fernet(secret: bytes, purpose: bytes) -> Fernet:
    """Derived once per (SECRET_KEY, purpose), not on every signed webhook or send."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))
