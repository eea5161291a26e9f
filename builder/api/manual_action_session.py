"""Let's Start: claim the next action, skip it, see the contact around it, dial.

These routes belong to the manual actions blueprint (/api/manual-actions).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from builder import claims
from builder.api import fail
from builder.api.common import Id
from builder.api.contacts import ContactSchema
from builder.api.manual_actions import ManualActionSchema, _action, bp
from builder.extensions import db
from builder.models import Call, Message, Note, utcnow
from builder.providers import ProviderError, get_provider


class StartSchema(Schema):
    workflow_id = Id(load_default=None, allow_none=True)
    assignee_id = Id(load_default=None, allow_none=True)
    contact_id = Id(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["sms", "call"]))
    action_id = Id(load_default=None, allow_none=True,
                   metadata={"description": "jump straight to this action (clicking a contact's name)"})
    exclude_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=1000),
                              metadata={"description": "actions skipped in this session"})


class ContactCard(ContactSchema):
    name = fields.String()


class MessageRow(Schema):
    id = fields.Integer()
    direction = fields.String()
    channel = fields.String()
    body = fields.String()
    status = fields.String()
    error = fields.String(allow_none=True)
    sent_by_id = fields.Integer(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    manual_action_id = fields.Integer(allow_none=True)
    send_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


class NoteRow(Schema):
    id = fields.Integer()
    body = fields.String()
    author_user_id = fields.Integer(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ContextSchema(Schema):
    action = fields.Nested(ManualActionSchema)
    contact = fields.Nested(ContactCard)
    messages = fields.List(fields.Nested(MessageRow), metadata={"description": "newest first, at most 20"})
    notes = fields.List(fields.Nested(NoteRow), metadata={"description": "newest first, at most 10"})


class DialSchema(Schema):
    call_id = fields.Integer()
    status = fields.String(metadata={"description": "simulated (console provider) or the provider's status"})
    provider = fields.String()
    to = fields.String()


def _lease() -> int:
    return current_app.config["CLAIM_LEASE_SECONDS"]


@bp.post("/start")
@bp.arguments(StartSchema)
@bp.response(200, ManualActionSchema)
def start(data: dict[str, Any]):
    """Let's Start: claim the oldest queued action matching the filters (agents: their own)."""
    action = claims.claim_next(g.user, data, lease_seconds=_lease(), action_id=data["action_id"],
                               exclude_ids=data["exclude_ids"])
    if action is None:
        fail(404, "No Manual Actions: nothing queued matches.")
    return _action(action.id)


@bp.post("/<int:action_id>/skip")
@bp.response(200, ManualActionSchema)
def skip(action_id: int):
    """Put the action back in the queue for someone else (or for later)."""
    action = _action(action_id)
    claims.release(g.user, action.id)
    return _action(action_id)


@bp.get("/<int:action_id>/context")
@bp.response(200, ContextSchema)
def context(action_id: int):
    """The action with its contact, their recent messages and notes: what Let's Start shows."""
    action = _action(action_id)
    contact = action.contact
    messages = db.session.scalars(select(Message).where(Message.contact_id == contact.id)
                                  .order_by(Message.created_at.desc(), Message.id.desc()).limit(20)).all()
    notes = db.session.scalars(select(Note).where(Note.contact_id == contact.id)
                               .order_by(Note.created_at.desc(), Note.id.desc()).limit(10)).all()
    return {"action": action, "contact": contact, "messages": messages, "notes": notes}


@bp.post("/<int:action_id>/dial")
@bp.response(201, DialSchema)
def dial(action_id: int):
    """Call the contact: the agent's phone rings and is bridged to the contact's
    (with the console provider the call is simulated and only recorded)."""
    action = _action(action_id)
    if action.type != "call":
        fail(409, "Only Manual Call actions can be dialled.")
    if action.status != "queued":
        fail(409, "This action is already done.")
    contact = action.contact
    if not contact.phone:
        fail(422, f"{contact.name or 'This contact'} has no phone number to call.")
    if contact.dnd_call:
        fail(422, f"{contact.name or 'This contact'} asked not to be called (DND for calls is on).")
    attempt = db.session.scalar(select(func.count()).where(Call.manual_action_id == action.id)) + 1
    try:
        provider = get_provider()
        placed = provider.place_call(g.user.phone, contact.phone, key=f"call:{action.id}:{attempt}")
    except ProviderError as exc:
        fail(502, f"The call could not be placed: {exc}")
    call = Call(account_id=action.account_id, manual_action_id=action.id, contact_id=contact.id, user_id=g.user.id,
                to_number=contact.phone, status=placed.status, provider=provider.name, provider_sid=placed.sid,
                is_test=action.is_test, ended_at=utcnow() if placed.status == "simulated" else None)
    db.session.add(call)
    db.session.commit()
    return {"call_id": call.id, "status": call.status, "provider": call.provider, "to": call.to_number}
