"""Socket.IO connections: who may listen, and to which rooms (events: builder.live.*_events).

Browsers connect with their login session (Flask-Login); API clients pass
`auth={"token": "<API token>"}`. Anything else is refused. Engine.IO's default
same-origin check keeps other sites from riding a browser's session cookie.

A connection joins `user:<id>`. Events are addressed when they are published to
the rooms of the people who may see them then (builder.live.action_events,
builder.live.conversation_events), so a changed role or a deactivation takes effect on the
next event; a deactivated user's connection is also dropped at their next sync or
watch. A revoked token takes effect on the next connection.

`manual_actions.sync` answers (as the ack) the caller's current counts, in the
shape of `manual_actions.counts`: clients call it after every (re)connect to
catch up on what they missed while away.

`workflow.watch` {"workflow_id"} joins the caller's builder room for one workflow
(events: builder.live.workflow_events, addressed at publish time to the account's admins
and managers); only admins and managers of its account may, checked afresh on
every call. The ack is {"ok": true} or {"ok": false, "error":
{"code", "message"}}. `workflow.unwatch` leaves it.

`contact.watch` {"contact_id"} joins the caller's own room for one contact
(`contact:<id>:user:<uid>`; events: builder.live.conversation_events), if they may see the
contact now (its assignee, the account's admins and managers); same acks.
`contact.unwatch` leaves it. Joining is only a subscription: each event goes to the
rooms of those who may see the contact when it is published, so a page left open
after its contact was reassigned hears nothing more. Pages watch again after a
reconnect, as rooms do not survive one.
"""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room, leave_room

from builder.domain.access import can_see_contact
from builder.domain.counts import counts_for
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.http.auth import user_from_token
from builder.live import conversation_events, emit, workflow_events
from builder.models import MAX_ID, Contact, User, Workflow

SESSION_KEY = "live_user_id"  # in the connection's own copy of the session, never the browser's cookie


def register(sio: SocketIO) -> None:
    """Attach the handlers to the server create_app just built (each app gets a new server)."""
    sio.on_event("connect", on_connect)
    sio.on_event("manual_actions.sync", on_sync)
    sio.on_event("workflow.watch", on_watch_workflow)
    sio.on_event("contact.watch", on_watch_contact)
    sio.on_event("contact.unwatch", on_unwatch_contact)
    sio.on_event("workflow.unwatch", on_unwatch_workflow)


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
    join_room(emit.user_room(user.id))


def _connected_user() -> User | None:
    """The connection's user as the database has them now; a deactivated one is dropped."""
    user_id = session.get(SESSION_KEY)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        disconnect()
        return None
    return user


def on_sync(*_args: Any) -> dict[str, Any] | None:
    user = _connected_user()
    return counts_for(user) if user is not None else None


def _refusal(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def on_watch_workflow(data: Any = None) -> dict[str, Any]:
    user = _connected_user()
    if user is None:
        return _refusal("unauthorized", "Log in again.")
    workflow_id = data.get("workflow_id") if isinstance(data, dict) else None
    if not isinstance(workflow_id, int) or isinstance(workflow_id, bool):
        return _refusal("bad_request", "Send {\"workflow_id\": <id>}.")
    if not user.can_see_all:
        return _refusal("forbidden", "Only admins and managers follow workflows in the builder.")
    found = (db.session.scalar(account_workflows(user.account_id).where(Workflow.id == workflow_id))
             if 0 < workflow_id <= MAX_ID else None)
    if found is None:
        return _refusal("not_found", f"Workflow {workflow_id} not found.")
    join_room(workflow_events.room(workflow_id, user.id))
    return {"ok": True}


def on_unwatch_workflow(data: Any = None) -> dict[str, Any]:
    workflow_id = data.get("workflow_id") if isinstance(data, dict) else None
    user_id = session.get(SESSION_KEY)
    if isinstance(workflow_id, int) and not isinstance(workflow_id, bool) and user_id is not None:
        leave_room(workflow_events.room(workflow_id, user_id))
    return {"ok": True}


def _contact_id(data: Any) -> int | None:
    contact_id = data.get("contact_id") if isinstance(data, dict) else None
    return contact_id if isinstance(contact_id, int) and not isinstance(contact_id, bool) else None


def on_watch_contact(data: Any = None) -> dict[str, Any]:
    """Follow one contact's conversation (message.created / .updated); only for those who may see the contact."""
    user = _connected_user()
    if user is None:
        return _refusal("unauthorized", "Log in again.")
    contact_id = _contact_id(data)
    if contact_id is None:
        return _refusal("bad_request", "Send {\"contact_id\": <id>}.")
    contact = db.session.get(Contact, contact_id) if 0 < contact_id <= MAX_ID else None
    if not can_see_contact(user, contact):
        return _refusal("not_found", f"Contact {contact_id} not found.")
    join_room(conversation_events.viewer_room(contact_id, user.id))
    return {"ok": True}


def on_unwatch_contact(data: Any = None) -> dict[str, Any]:
    contact_id = _contact_id(data)
    user_id = session.get(SESSION_KEY)
    if contact_id is not None and user_id is not None:
        leave_room(conversation_events.viewer_room(contact_id, user_id))
    return {"ok": True}
