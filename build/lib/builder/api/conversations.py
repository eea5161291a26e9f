"""Conversations: one thread per contact, inbound and outbound, automated and manual.

The thread follows the contacts' visibility: admins and managers read and write
every contact's thread in their account, agents only those of contacts assigned
to them; anyone else's contact is a 404. Texting from the thread goes through the
outbox like a Manual SMS: refused with a 422 (and nothing queued) when the
contact has no phone number or SMS do-not-disturb is on.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from builder.api.base import blueprint
from builder.api.contacts import find_contact
from builder.domain import messaging
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Message
from builder.schemas.fields import Flag, Id, Text, not_blank
from builder.schemas.messages import ThreadMessageSchema, thread_query, thread_rows
from jobqueue.effects import carry_out_committed

bp = blueprint("api_conversations", "/contacts", description="Conversations: each contact's message thread")


class ThreadQuery(Schema):
    before_id = Id(strict=False, metadata={"description": "only messages older than this one (paging back)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ThreadPage(Schema):
    items = fields.List(fields.Nested(ThreadMessageSchema), metadata={"description": "oldest first"})
    has_more = fields.Boolean(metadata={"description": "older messages exist (ask with before_id)"})


class SendSchema(Schema):
    body = Text(strip=False, required=True, validate=[validate.Length(min=1, max=1600), not_blank])
    send_at = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "send later (ISO 8601; UTC if no offset is given)"})
    confirm_quiet_hours = Flag(load_default=False, metadata={
        "description": "send even though it is (or will be, at send_at) outside the account's quiet hours in the "
                       "contact's time zone; without it such a send is refused with 409 quiet_hours"})




def _row(message_id: int) -> dict[str, Any]:
    return thread_rows(thread_query(Message.id == message_id))[0]


@bp.get("/<int:contact_id>/messages")
@bp.arguments(ThreadQuery, location="query")
@bp.response(200, ThreadPage)
def list_messages(args: dict[str, Any], contact_id: int):
    """The latest messages of the contact's thread (before `before_id` if given), oldest first."""
    contact = find_contact(contact_id)
    query = thread_query(Message.contact_id == contact.id)
    if "before_id" in args:
        query = query.where(Message.id < args["before_id"])
    limit = args["limit"]
    rows = thread_rows(query.order_by(Message.id.desc()).limit(limit + 1))
    return {"items": rows[:limit][::-1], "has_more": len(rows) > limit}


@bp.post("/<int:contact_id>/messages")
@bp.arguments(SendSchema)
@bp.response(201, ThreadMessageSchema)
def send_message(data: dict[str, Any], contact_id: int):
    """Text the contact from their thread, now or at `send_at`; answers with the message as it stands."""
    contact = find_contact(contact_id)
    messaging.check_can_text(contact)
    send_at = messaging.send_time(data.get("send_at"))
    messaging.check_quiet_hours(contact, send_at, data["confirm_quiet_hours"])
    after = AfterCommit()
    message_id = messaging.record_text(contact, data["body"], send_at, after, sent_by_id=g.user.id).id
    db.session.commit()
    carry_out_committed(after)
    row = _row(message_id)
    db.session.commit()  # end the read
    return row

