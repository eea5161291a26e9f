"""Each account's Twilio credentials and sender, with the environment's TWILIO_* as the fallback.

The auth token is encrypted at rest with a key derived from SECRET_KEY (Fernet:
AES with an HMAC), is never returned by the API, and never appears in a repr,
log line or error message. Changing SECRET_KEY makes stored tokens unreadable:
the admin enters the token again on Settings > Twilio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import bindparam, exists, select

from builder.extensions import db
from builder.integrations import sealing
from builder.models import Account, TwilioSettings

log = logging.getLogger(__name__)
_KEY_INFO = b"flowdesk twilio auth token v1"


class UnreadableToken(Exception):
    """The stored token was encrypted under another SECRET_KEY."""


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str | None = None
    messaging_service_sid: str | None = None
    account_id: int | None = None  # None: the environment's settings, shared by accounts without their own


def _secret() -> bytes:
    return sealing.app_secret()


def _fernet_for(secret: bytes) -> Fernet:
    return sealing.fernet(secret, _KEY_INFO)


def _fernet() -> Fernet:
    return _fernet_for(_secret())


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(encrypted: str) -> str:
    try:
        return _decrypted(_secret(), encrypted)
    except InvalidToken:
        raise UnreadableToken(
            "The stored Twilio auth token cannot be read (SECRET_KEY changed?); enter it again in Settings > Twilio."
        ) from None


@lru_cache(maxsize=256)
def _decrypted(secret: bytes, encrypted: str) -> str:
    """Every signed webhook reads its account's token: decrypting (an HMAC check and AES) once per stored
    value is enough, since the same key and ciphertext always give the same token. Failures are not cached."""
    return _fernet_for(secret).decrypt(encrypted.encode()).decode()


def _from_row(row: TwilioSettings) -> TwilioCredentials:
    return TwilioCredentials(account_sid=row.account_sid, auth_token=decrypt_token(row.auth_token_encrypted),
                             from_number=row.from_number, messaging_service_sid=row.messaging_service_sid,
                             account_id=row.account_id)


def environment_credentials() -> TwilioCredentials | None:
    config = current_app.config
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        return None
    return TwilioCredentials(account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"],
                             from_number=config.get("TWILIO_FROM_NUMBER") or None,
                             messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID") or None)


def stored(account_id: int) -> TwilioSettings | None:
    return db.session.get(TwilioSettings, account_id)


def credentials_for(account_id: int) -> TwilioCredentials | None:
    """The account's own credentials, else the environment's, else None (console provider).
    Raises UnreadableToken when the account's stored token cannot be decrypted."""
    row = stored(account_id)
    return _from_row(row) if row is not None else environment_credentials()


_BY_SID = select(TwilioSettings).where(TwilioSettings.account_sid == bindparam("account_sid"))  # every webhook


def signers_for(account_sid: str) -> list[TwilioCredentials]:
    """Every set of credentials under this Twilio Account SID: whoever signed a webhook
    naming it must hold one of their tokens."""
    found = []
    for row in db.session.scalars(_BY_SID, {"account_sid": account_sid}):
        try:
            found.append(_from_row(row))
        except UnreadableToken:
            log.warning("account %s: stored Twilio auth token is unreadable; its webhooks are refused",
                        row.account_id)
    env = environment_credentials()
    if env is not None and env.account_sid == account_sid:
        found.append(env)
    return found


def accounts_using(credentials: TwilioCredentials) -> list[int]:
    """The flowdesk accounts a webhook signed with these credentials may touch."""
    if credentials.account_id is not None:
        return [credentials.account_id]
    own = exists().where(TwilioSettings.account_id == Account.id)
    return list(db.session.scalars(select(Account.id).where(~own).order_by(Account.id)))


def save(account_id: int, *, account_sid: str, auth_token: str | None, from_number: str | None,
         messaging_service_sid: str | None, user_id: int | None) -> TwilioSettings:
    """Create or replace the account's settings; auth_token None keeps the stored one."""
    row = stored(account_id)
    if row is None:
        if auth_token is None:
            raise ValueError("auth_token is required the first time")
        row = TwilioSettings(account_id=account_id)
        db.session.add(row)
    row.account_sid = account_sid
    if auth_token is not None:
        row.auth_token_encrypted = encrypt_token(auth_token)
    row.from_number = from_number
    row.messaging_service_sid = messaging_service_sid
    row.updated_by_id = user_id
    return row


def delete(account_id: int) -> bool:
    row = stored(account_id)
    if row is None:
        return False
    db.session.delete(row)
    return True
