"""Socket.IO connections: who may listen, and to which rooms (events: builder.live).

Browsers connect with their login session (Flask-Login); API clients pass
`auth={"token": "<API token>"}`. Anything else is refused. Engine.IO's default
same-origin check keeps other sites from riding a browser's session cookie.

A connection joins `user:<id>`, and for admins and managers `account:<id>:all`.
Roles are read when connecting; a changed role or a revoked token takes effect
on the next connection, while a deactivated user is dropped at their next sync.

`manual_actions.sync` answers (as the ack) the caller's current counts, in the
shape of `manual_actions.counts`: clients call it after every (re)connect to
catch up on what they missed while away.
"""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room

from builder import live
from builder.auth import user_from_token
from builder.extensions import db
from builder.models import User
from builder.reports import counts_for

SESSION_KEY = "live_user_id"  # in the connection's own copy of the session, never the browser's cookie


def register(sio: SocketIO) -> None:
    """Attach the handlers to the server create_app just built (each app gets a new server)."""
    sio.on_event("connect", on_connect)
    sio.on_event("manual_actions.sync", on_sync)


def _authenticate(auth: Any) -> User | None:
    if isinstance(auth, dict) and "token" in auth:
        token = auth["token"]
        # A token that does not check out refuses the connection, whatever the cookie says.
        return user_from_token(f"Bearer {token}") if isinstance(token, str) and token else None
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def on_connect(auth: Any = None) -> None:
    user = _authenticate(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized: log in or pass auth={'token': '<API token>'}")
    session[SESSION_KEY] = user.id
    join_room(live.user_room(user.id))
    if user.can_see_all:
        join_room(live.account_room(user.account_id))


def on_sync(*_args: Any) -> dict[str, Any] | None:
    user_id = session.get(SESSION_KEY)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        disconnect()
        return None
    return counts_for(user)
