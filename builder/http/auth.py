"""Who is asking: browser sessions (Flask-Login) and API bearer tokens, plus roles."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache, wraps
from typing import Any

from flask import abort, g, request, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import bindparam, delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from builder.domain import team
from builder.extensions import db, login_manager
from builder.http import throttle
from builder.models import ApiToken, User, UserSession, utcnow

SESSION_KEY = "login_session"  # the UserSession secret, in the signed session cookie
LAST_SEEN_EVERY = timedelta(minutes=5)  # at most one last_seen_at write per session this often
FORGET_IDLE_AFTER = timedelta(days=30)  # a user's logins unseen this long are pruned at their next login


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user, only while its server-side UserSession row exists and the user is active."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    secret = session.get(SESSION_KEY)
    row = db.session.get(UserSession, ApiToken.hash(secret)) if isinstance(secret, str) and secret else None
    if row is None or row.user_id != user.id:
        return None
    now = utcnow()
    # Only with nothing else pending: committing here must never commit a view's half-done work.
    if now - row.last_seen_at > LAST_SEEN_EVERY and not (db.session.new or db.session.dirty or db.session.deleted):
        row.last_seen_at = now
        db.session.commit()
    return user


def start_session(user: User) -> None:
    """Log the user in with a fresh server-side session (their stale ones pruned, and this browser's previous one)."""
    previous = session.pop(SESSION_KEY, None)
    if isinstance(previous, str) and previous:
        db.session.execute(delete(UserSession).where(UserSession.id_hash == ApiToken.hash(previous)))
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id, UserSession.last_seen_at < utcnow() - FORGET_IDLE_AFTER))
    row, secret = UserSession.start(user)
    db.session.add(row)
    db.session.commit()
    login_user(user)
    session[SESSION_KEY] = secret


def end_session() -> None:
    """Log out: the row goes, so a copy of the cookie kept elsewhere stops working too."""
    secret = session.pop(SESSION_KEY, None)
    if isinstance(secret, str) and secret:
        db.session.execute(delete(UserSession).where(UserSession.id_hash == ApiToken.hash(secret)))
        db.session.commit()
    logout_user()


def end_all_sessions(user: User) -> None:
    """End every browser session and delete every API token of the user (call on deactivation or a new password).

    Does not commit: the caller commits it with the change that made it necessary.
    Socket.IO connections authenticate with the same session or token, so the next connect is refused.
    """
    team.end_logins(user.id)


def current_session_hash() -> str | None:
    """The id hash of this browser's UserSession (None for an API token), to keep it when the others end."""
    secret = session.get(SESSION_KEY)
    return ApiToken.hash(secret) if isinstance(secret, str) and secret else None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made once, with the same method as real hashes (User.set_password), for unknown emails to check against.
    return generate_password_hash(secrets.token_urlsafe(16))


def find_user(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; raises throttle.TooManyAttempts.

    Every path checks one password hash, so an unknown email takes as long as a wrong password.
    """
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    attempt = throttle.begin(email, user.id if user is not None else None)
    known = user is not None and bool(user.password_hash)
    matches = check_password_hash(user.password_hash if known else _dummy_hash(), password)
    if not known or not matches or not user.active:
        return None
    attempt.succeeded()
    return user


# The token's user in one query (the token row itself is never needed), built once: every API call runs it.
_TOKEN_USER = (select(User).join(ApiToken, ApiToken.user_id == User.id)
               .where(ApiToken.token_hash == bindparam("token_hash")))


def user_from_token(header: str | None) -> User | None:
    if not header or not header.startswith("Bearer "):
        return None
    user = db.session.scalar(_TOKEN_USER, {"token_hash": ApiToken.hash(header[7:].strip())})
    if user is None or not user.active:
        return None
    return user


def authenticate_api() -> User:
    """Bearer token first; else the browser session, whose writes must carry a CSRF token."""
    user = user_from_token(request.headers.get("Authorization"))
    if user is None and current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except Exception:
                abort(400, description="Missing or invalid CSRF token (send it as X-CSRFToken).")
        user = current_user._get_current_object()
    if user is None:
        abort(401, description="Log in or send 'Authorization: Bearer <token>'.")
    g.user = user
    return user


def require_role(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in roles:
                abort(403, description=f"This needs the {' or '.join(roles)} role.")
            return view(*args, **kwargs)

        return wrapper

    return decorator













