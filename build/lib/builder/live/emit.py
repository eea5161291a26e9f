"""Sending live events: the Socket.IO emitter shared by every publisher, and the per-user rooms.

Emits go through the Redis message queue whenever one is configured, from web
and worker processes alike, with a write-only emitter ("Emitting from an
External Process" in the Flask-SocketIO docs): every web process's Socket.IO
server, this one included, delivers to its own clients. With the queue switched
off (SOCKETIO_MESSAGE_QUEUE = None, as in tests using the Socket.IO test client)
emits go straight through the app's server.

Publishing is best effort and never raises into the caller: the change is
already committed, and clients refetch over REST when they reconnect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_socketio import SocketIO
from redis.connection import parse_url

from builder.extensions import db, socketio

log = logging.getLogger(__name__)

# (event, payload, room or rooms)
Emit = tuple[str, Any, str | list[str]]

_emitters: dict[tuple[int, str], SocketIO] = {}


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def channel(url: str | None) -> str:
    """The pub/sub channel for a message queue URL, the same in every process that uses the URL.

    Redis pub/sub ignores database numbers: with one fixed channel, deployments (or test runs) that share a
    Redis server on different databases would deliver each other's events to rooms named alike.
    """
    try:
        number = (parse_url(url).get("db") or 0) if url else 0
    except ValueError:  # not a Redis URL: no database to tell apart
        number = 0
    return f"flowdesk-socketio-db{number}"


def message_queue() -> str | None:
    """The queue URL, read as create_app reads it: absent means REDIS_URL, None means no queue."""
    return current_app.config.get("SOCKETIO_MESSAGE_QUEUE", current_app.config["REDIS_URL"])


def _emitter() -> SocketIO:
    url = message_queue()
    if not url:
        return socketio
    # Keyed by pid too: a forked work-horse must not share its parent's Redis socket.
    key = (os.getpid(), url)
    if key not in _emitters:
        _emitters[key] = SocketIO(message_queue=url, channel=channel(url), async_mode="threading")
    return _emitters[key]


def emit(messages: list[Emit]) -> None:
    emitter = _emitter()
    for event, data, to in messages:
        if to:  # an empty list of rooms would mean everyone
            emitter.emit(event, data, to=to, namespace="/")


def publish_safely(build: Callable[[], list[Emit]], what: str = "live events") -> None:
    """Read what to send, end the read (on SQLite it holds the write lock), then emit; log any failure.

    Shared by every module that publishes (manual actions here, conversations, the builder): clients catch up
    over REST when they resynchronise, so a failure is logged and never raised into the caller.
    """
    owns_transaction = not db.session().in_transaction()
    try:
        messages = build()
    except Exception:
        log.exception("could not read the %s to publish; clients catch up when they resynchronise", what)
        if owns_transaction:
            db.session.rollback()
        return
    if owns_transaction:
        db.session.rollback()  # nothing was written: this only ends our read
    try:
        emit(messages)
    except Exception:
        log.exception("could not publish %s; clients catch up when they resynchronise", what)
