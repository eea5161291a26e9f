"""A message in a contact's conversation thread, as the API and live events show it, and the one
query that reads messages in that shape."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import ColumnElement, Select, select

from builder.extensions import db
from builder.models import Contact, Message, User, Workflow
from builder.schemas.timestamps import DateTime


class NamedRefSchema(Schema):
    """A person or a workflow, by id and name."""

    id = fields.Integer()
    name = fields.String()


class ThreadMessageSchema(Schema):
    id = fields.Integer()
    contact_id = fields.Integer()
    direction = fields.String(metadata={"description": "inbound or outbound"})
    channel = fields.String()
    body = fields.String()
    status = fields.String(metadata={"description": "outbound: queued, sending, accepted, sent, delivered, "
                                                    "undelivered, failed, unknown; inbound: received"})
    error_code = fields.String(allow_none=True, metadata={"description": "why it failed: the provider's code, "
                                                                         "or dnd when the contact opted out"})
    error = fields.String(allow_none=True)
    created_at = DateTime()
    send_at = DateTime(allow_none=True, metadata={"description": "scheduled for this time"})
    sent_at = DateTime(allow_none=True)
    status_at = DateTime(allow_none=True)
    sent_by = fields.Nested(NamedRefSchema, allow_none=True, metadata={"description": "the person who sent it"})
    workflow = fields.Nested(NamedRefSchema, allow_none=True, metadata={"description": "the workflow that sent it"})
    sent_by_id = fields.Integer(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    manual_action_id = fields.Integer(allow_none=True)
    is_test = fields.Boolean()


def thread_query(*where: ColumnElement[bool]) -> Select:
    """Messages with their sender's and workflow's names and the contact's assignee, in one query."""
    return (
        select(Message, User.name, User.email, Workflow.name, Contact.assigned_user_id)
        .join(Contact, Contact.id == Message.contact_id)
        .outerjoin(User, User.id == Message.sent_by_id)
        .outerjoin(Workflow, Workflow.id == Message.workflow_id)
        .where(*where)
        # Rows changed by UPDATE statements (the outbox, status callbacks) must not come from the identity map.
        .execution_options(populate_existing=True)
    )


_SCHEMA = ThreadMessageSchema()


_COLUMNS = [name for name in _SCHEMA.fields if name not in ("sent_by", "workflow")]


def thread_row(message: Message, user_name: str | None, user_email: str | None, workflow_name: str | None) -> dict:
    """One message as a dict for ThreadMessageSchema, given the names thread_query joins in."""
    row = {name: getattr(message, name) for name in _COLUMNS}
    row["sent_by"] = ({"id": message.sent_by_id, "name": user_name or user_email or f"User {message.sent_by_id}"}
                      if message.sent_by_id else None)
    row["workflow"] = {"id": message.workflow_id, "name": workflow_name} if workflow_name is not None else None
    return row


def thread_rows(query: Select) -> list[dict[str, Any]]:
    """Run a thread_query(): one dict per message, for ThreadMessageSchema to dump."""
    return [thread_row(message, name, email, workflow)
            for message, name, email, workflow, _ in db.session.execute(query)]

