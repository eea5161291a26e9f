"""Each account's SMTP server and sender (Settings > Email), with the environment's SMTP_* as the fallback.

The password is sealed at rest (Fernet, a key derived from SECRET_KEY for this purpose only), never
returned by the API and never in a repr or log line. Changing SECRET_KEY makes it unreadable: the admin
enters it again. No settings anywhere: the console email provider (builder.integrations.email_provider).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from flask import current_app

from builder.extensions import db
from builder.integrations import sealing
from builder.models import EmailSettings

_KEY_INFO = b"flowdesk smtp password v1"
SECURITY = ("starttls", "tls", "none")


class UnreadablePassword(Exception):
    """The stored password was sealed under another SECRET_KEY."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    from_address: str
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    from_name: str | None = None
    reply_to: str | None = None
    account_id: int | None = None  # None: the environment's


def _seal(password: str) -> str:
    return sealing.fernet(sealing.app_secret(), _KEY_INFO).encrypt(password.encode()).decode()


def _open(sealed: str) -> str:
    try:
        return sealing.fernet(sealing.app_secret(), _KEY_INFO).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise UnreadablePassword("The stored SMTP password cannot be read (SECRET_KEY changed?); "
                                 "enter it again in Settings > Email.") from None


def stored(account_id: int) -> EmailSettings | None:
    return db.session.get(EmailSettings, account_id)


def environment_settings() -> SmtpSettings | None:
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return None
    return SmtpSettings(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 587),
                        security=config.get("SMTP_SECURITY") or "starttls",
                        username=config.get("SMTP_USERNAME") or None, password=config.get("SMTP_PASSWORD") or None,
                        from_address=config.get("SMTP_FROM_ADDRESS") or config.get("SMTP_USERNAME") or "",
                        from_name=config.get("SMTP_FROM_NAME") or None, reply_to=config.get("SMTP_REPLY_TO") or None)


def settings_for(account_id: int) -> SmtpSettings | None:
    """The account's own SMTP settings, else the environment's, else None (console provider).
    Raises UnreadablePassword when the stored password cannot be opened."""
    row = stored(account_id)
    if row is None:
        return environment_settings()
    return SmtpSettings(host=row.host, port=row.port, security=row.security, username=row.username,
                        password=_open(row.password_encrypted) if row.password_encrypted else None,
                        from_address=row.from_address, from_name=row.from_name, reply_to=row.reply_to,
                        account_id=row.account_id)


def save(account_id: int, *, host: str, port: int, security: str, username: str | None, password: str | None,
         from_address: str, from_name: str | None, reply_to: str | None, user_id: int | None,
         clear_password: bool = False) -> EmailSettings:
    """Create or replace the account's settings; password None keeps the stored one (unless cleared)."""
    row = stored(account_id)
    if row is None:
        row = EmailSettings(account_id=account_id)
        db.session.add(row)
    row.host, row.port, row.security, row.username = host, port, security, username
    if password is not None:
        row.password_encrypted = _seal(password)
    elif clear_password:
        row.password_encrypted = None
    row.from_address, row.from_name, row.reply_to = from_address, from_name, reply_to
    row.updated_by_id = user_id
    return row


def delete(account_id: int) -> bool:
    row = stored(account_id)
    if row is None:
        return False
    db.session.delete(row)
    return True
