"""Outbound requests' secrets and rules: each account's signing secret and Slack URL, the signature
every request carries, and the address guard (no requests into private networks).

Both secrets are encrypted at rest (builder.integrations.sealing, under a key of their own, as
the Twilio auth token is). The signing secret is made on
first use and shown to admins (receivers need it to check signatures); the Slack URL is a
credential too (whoever holds it can post to the channel) and is only ever shown masked.

The guard: a destination must resolve only to public addresses; private, loopback, link-local,
multicast, reserved and other non-global ones are refused unless the host (or host:port) is in
ALLOWED_WEBHOOK_HOSTS. The check runs where the connection is made (outbound_transport), on the
addresses actually connected to, so a name that changes its answer between a check and the
connection cannot slip through.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app

from builder.extensions import db
from builder.integrations import sealing
from builder.models import OutboundSettings

_KEY_INFO = b"flowdesk outbound secrets v1"
SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Flowdesk-Timestamp"
SIGNATURE_HEADER = "X-Flowdesk-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class UnreadableSecret(Exception):
    """A stored secret was encrypted under another SECRET_KEY."""


class DestinationRefused(Exception):
    """The destination is not one flowdesk may send to (an internal address, or not an http(s) URL)."""


# --- encryption ---

def _encrypt(value: str) -> str:
    return sealing.fernet(sealing.app_secret(), _KEY_INFO).encrypt(value.encode()).decode()


def _decrypt(encrypted: str) -> str:
    try:
        return sealing.fernet(sealing.app_secret(), _KEY_INFO).decrypt(encrypted.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("A stored integration secret cannot be read (SECRET_KEY changed?); "
                               "rotate the signing secret and enter the Slack URL again in Settings > Integrations."
                               ) from None


# --- the account's secrets ---

def new_signing_secret() -> str:
    return "fdsk_" + secrets.token_urlsafe(32)


def stored(account_id: int) -> OutboundSettings | None:
    return db.session.get(OutboundSettings, account_id)


def _row(account_id: int) -> OutboundSettings:
    row = stored(account_id)
    if row is None:
        row = OutboundSettings(account_id=account_id, signing_secret_encrypted=_encrypt(new_signing_secret()))
        db.session.add(row)
        db.session.flush()
    return row


def signing_secret(account_id: int) -> str:
    """The account's signing secret, made on first use (in the caller's transaction)."""
    return _decrypt(_row(account_id).signing_secret_encrypted)


def rotate_signing_secret(account_id: int, user_id: int | None) -> str:
    row = _row(account_id)
    secret = new_signing_secret()
    row.signing_secret_encrypted = _encrypt(secret)
    row.updated_by_id = user_id
    return secret


def slack_url(account_id: int) -> str | None:
    row = stored(account_id)
    if row is None or row.slack_webhook_url_encrypted is None:
        return None
    return _decrypt(row.slack_webhook_url_encrypted)


def set_slack_url(account_id: int, url: str | None, user_id: int | None) -> None:
    row = _row(account_id)
    row.slack_webhook_url_encrypted = _encrypt(url) if url else None
    row.updated_by_id = user_id


def mask_url(url: str) -> str:
    """Enough of a URL to recognise it, not enough to use it: the scheme, the host and the last 4 characters."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…{url[-4:]}" if len(url) > 12 else "…"


# --- signing ---

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<raw body>", hex, prefixed "v1=" (the README shows how to check it)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


# --- the address guard ---

@dataclass(frozen=True)
class HostRule:
    host: str
    port: int | None  # None: any port


def allowed_hosts(value: str | list[str] | None = None) -> list[HostRule]:
    """ALLOWED_WEBHOOK_HOSTS as rules: "host" (any port) or "host:port", comma-separated."""
    raw = current_app.config.get("ALLOWED_WEBHOOK_HOSTS", "") if value is None else value
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    rules = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if sep and port.isdigit() and not host.endswith(":"):  # "::1" alone is a host, "[::1]:80" has a port
            rules.append(HostRule(host.strip("[]"), int(port)))
        else:
            rules.append(HostRule(item.strip("[]"), None))
    return rules


def is_allowed_host(host: str, port: int) -> bool:
    host = host.lower().strip("[]").rstrip(".")
    return any(rule.host == host and rule.port in (None, port) for rule in allowed_hosts())


def address_problem(address: str) -> str | None:
    """Why flowdesk may not connect to this IP address, or None if it is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return "not a public address"
    return None


def vetted_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, if flowdesk may connect to them; raises DestinationRefused
    when any is internal (and the host is not allowed), socket.gaierror when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if is_allowed_host(host, port):
        return addresses
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise DestinationRefused(
                f"{host} resolves to {address}, {problem}; add the host to ALLOWED_WEBHOOK_HOSTS to allow it")
    return addresses


def check_url(url: str) -> None:
    """Refuse what is not an http(s) URL with a host, before anything is resolved."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"{url[:200]!r} is not an http(s) URL with a host")
