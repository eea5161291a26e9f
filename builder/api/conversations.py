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

from builder import conversation_live
from builder.api import blueprint, fail
from builder.api.common import MAX_ID, Flag, Id, Text
from builder.api.contacts import visible_contacts
from builder.api.manual_actions import _check_can_text, _not_blank, _send_at, _send_or_schedule
from builder.api.messaging_settings import check_quiet_hours
from builder.conversation_live import ThreadMessageSchema, thread_query, thread_rows
from builder.extensions import db
from builder.models import Contact, Message

bp = blueprint("api_conversations", "/contacts", description="Conversations: each contact's message thread")


class ThreadQuery(Schema):
    before_id = Id(strict=False, metadata={"description": "only messages older than this one (paging back)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ThreadPage(Schema):
    items = fields.List(fields.Nested(ThreadMessageSchema), metadata={"description": "oldest first"})
    has_more = fields.Boolean(metadata={"description": "older messages exist (ask with before_id)"})


class SendSchema(Schema):
    body = Text(strip=False, required=True, validate=[validate.Length(min=1, max=1600), _not_blank])
    send_at = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "send later (ISO 8601; UTC if no offset is given)"})
    confirm_quiet_hours = Flag(load_default=False, metadata={
        "description": "send even though it is (or will be, at send_at) outside the account's quiet hours in the "
                       "contact's time zone; without it such a send is refused with 409 quiet_hours"})


def _contact(contact_id: int) -> Contact:
    contact = db.session.scalar(visible_contacts().where(Contact.id == contact_id)) if contact_id <= MAX_ID else None
    if contact is None:
        fail(404, f"Contact {contact_id} not found.")
    return contact


def _row(message_id: int) -> dict[str, Any]:
    return thread_rows(thread_query(Message.id == message_id))[0]


@bp.get("/<int:contact_id>/messages")
@bp.arguments(ThreadQuery, location="query")
@bp.response(200, ThreadPage)
def list_messages(args: dict[str, Any], contact_id: int):
    """The latest messages of the contact's thread (before `before_id` if given), oldest first."""
    contact = _contact(contact_id)
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
    contact = _contact(contact_id)
    _check_can_text(contact)
    send_at = _send_at(data)
    check_quiet_hours(contact, send_at, data["confirm_quiet_hours"])
    message = Message(
        account_id=contact.account_id, contact_id=contact.id, direction="outbound", channel="sms",
        to_number=contact.phone, body=data["body"], status="queued", sent_by_id=g.user.id,
        is_test=contact.is_test, send_at=send_at,
    )
    db.session.add(message)
    db.session.commit()
    message_id = message.id
    conversation_live.publish([message_id], "created")
    _send_or_schedule(message)
    row = _row(message_id)
    db.session.commit()  # end the read
    return row

