"""Let's Start: claim the next action, skip it, see the contact around it, dial.

These routes belong to the manual actions blueprint (/api/manual-actions).
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import current_app, g
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select, update

from builder.api.base import fail
from builder.api.manual_actions import bp, visible_action
from builder.domain import claims
from builder.domain.access import can_see_contact
from builder.domain.messaging import check_quiet_hours
from builder.extensions import db
from builder.integrations.providers import NotConfigured, ProviderError, Sent, SmsProvider, get_provider
from builder.models import (
    Call,
    Enrollment,
    EnrollmentStatus,
    ManualActionStatus,
    ManualActionType,
    Message,
    Note,
    Workflow,
    utcnow,
)
from builder.schemas.contacts import ContactSchema
from builder.schemas.fields import Flag, Id
from builder.schemas.manual_actions import ManualActionSchema
from builder.schemas.messages import ThreadMessageSchema, thread_query, thread_rows
from builder.schemas.timestamps import DateTime
from jobqueue.runner import graphs_for


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


class MessageRow(ThreadMessageSchema):
    """A conversation row, as GET /api/contacts/<id>/messages lists them."""


class NoteRow(Schema):
    id = fields.Integer()
    body = fields.String()
    author_user_id = fields.Integer(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    created_at = DateTime()


class WaitingForReplyRow(Schema):
    workflow_id = fields.Integer()
    workflow_name = fields.String()
    since = DateTime(metadata={"description": "when the contact reached the wait step"})


class ContextSchema(Schema):
    action = fields.Nested(ManualActionSchema)
    contact = fields.Nested(ContactCard)
    messages = fields.List(fields.Nested(MessageRow), metadata={"description": "newest first, at most 20"})
    notes = fields.List(fields.Nested(NoteRow), metadata={"description": "newest first, at most 10"})
    waiting_for_reply = fields.List(fields.Nested(WaitingForReplyRow), metadata={
        "description": "workflows holding the contact at a Wait for Customer Reply step (any reply resolves them)"})


class DialRequest(Schema):
    confirm_quiet_hours = Flag(load_default=False, metadata={
        "description": "call even though it is outside the account's quiet hours in the contact's time zone; "
                       "without it such a call is refused with 409 quiet_hours"})


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
    return visible_action(action.id)


@bp.post("/<int:action_id>/skip")
@bp.response(200, ManualActionSchema)
def skip(action_id: int):
    """Put the action back in the queue for someone else (or for later)."""
    action = visible_action(action_id)
    claims.release(g.user, action.id)
    return visible_action(action_id)


@bp.get("/<int:action_id>/context")
@bp.response(200, ContextSchema)
def context(action_id: int):
    """The action with its contact, their recent messages and notes: what Let's Start shows."""
    action = visible_action(action_id)
    contact = action.contact
    # A contact's queued actions follow it to a new owner (builder.domain.handover), so a former owner holds
    # none; an agent sees the contact while it is theirs, or while a manager has handed them one of its actions.
    delegated = contact is not None and contact.deleted_at is None and action.assignee_id == g.user.id
    if not (can_see_contact(g.user, contact) or delegated):
        fail(404, f"Manual action {action_id} not found.")
    messages = thread_rows(thread_query(Message.contact_id == contact.id)
                           .order_by(Message.created_at.desc(), Message.id.desc()).limit(20))
    notes = db.session.scalars(select(Note).where(Note.contact_id == contact.id)
                               .order_by(Note.created_at.desc(), Note.id.desc()).limit(10)).all()
    return {"action": action, "contact": contact, "messages": messages, "notes": notes,
            "waiting_for_reply": _waiting_for_reply(contact.id)}


def _waiting_for_reply(contact_id: int) -> list[dict[str, Any]]:
    """The contact's runs paused at a Wait for Customer Reply step: the agent should know that
    their text is the last one before the reply that moves those workflows on."""
    runs = db.session.execute(
        select(Enrollment.workflow_id, Workflow.name, Enrollment.version_id, Enrollment.current_step,
               Enrollment.updated_at)
        .join(Workflow, Workflow.id == Enrollment.workflow_id)
        .where(Enrollment.contact_id == contact_id, Enrollment.status == EnrollmentStatus.WAITING.value)
        .order_by(Enrollment.updated_at)
    ).all()
    graphs = graphs_for({run.version_id for run in runs})
    waiting = []
    for run in runs:
        step = graphs[run.version_id].steps.get(run.current_step or "")
        if step is not None and step.type == "wait_for_reply":
            # The run's last change was pausing at the step (a run that moves on leaves "waiting").
            waiting.append({"workflow_id": run.workflow_id, "workflow_name": run.name, "since": run.updated_at})
    return waiting


@bp.post("/<int:action_id>/dial")
@bp.arguments(DialRequest, required=False)
@bp.response(201, DialSchema)
def dial(data: dict[str, Any], action_id: int):
    """Call the contact: the agent's phone rings and is bridged to the contact's
    (with the console provider the call is simulated and only recorded)."""
    action = visible_action(action_id)
    if action.type != ManualActionType.CALL:
        fail(409, "Only Manual Call actions can be dialled.")
    if action.status != ManualActionStatus.QUEUED:
        fail(409, "This action is already done.")
    contact = action.contact
    if not contact.phone:
        fail(422, f"{contact.name or 'This contact'} has no phone number to call.")
    if contact.dnd_call:
        fail(422, f"{contact.name or 'This contact'} asked not to be called (DND for calls is on).")
    check_quiet_hours(contact, None, data["confirm_quiet_hours"], call=True)
    attempt = db.session.scalar(select(func.count()).where(Call.manual_action_id == action.id)) + 1
    provider = _provider_for(action.account_id)
    # The row comes first: Twilio fetches the bridge for this call id as soon as the agent answers.
    call = Call(account_id=action.account_id, manual_action_id=action.id, contact_id=contact.id, user_id=g.user.id,
                to_number=contact.phone, status="initiating", provider=provider.name, is_test=action.is_test)
    db.session.add(call)
    db.session.commit()
    try:
        placed = provider.place_call(g.user.phone, contact.phone, key=f"call:{action.id}:{attempt}", call_id=call.id)
    except ProviderError as exc:
        _call_not_placed(call, exc)
    _record_placed(call, placed)
    db.session.refresh(call)
    return {"call_id": call.id, "status": call.status, "provider": call.provider, "to": call.to_number}


def _provider_for(account_id: int) -> SmsProvider:
    try:
        return get_provider(account_id)
    except ProviderError as exc:
        fail(422 if isinstance(exc, NotConfigured) else 502, f"The call could not be placed: {exc}")


def _call_not_placed(call: Call, exc: ProviderError) -> NoReturn:
    if isinstance(exc, NotConfigured):  # nothing was tried: leave no trace of a call
        db.session.delete(call)
        db.session.commit()
        fail(422, str(exc))
    now = utcnow()
    # A call that may have gone through stays open to Twilio's status callbacks.
    call.status, call.error, call.status_at = ("unknown" if exc.uncertain else "failed"), str(exc), now
    call.ended_at = None if exc.uncertain else now
    db.session.commit()
    fail(502, f"The call could not be placed: {exc}")


def _record_placed(call: Call, placed: Sent) -> None:
    now = utcnow()
    db.session.execute(update(Call).where(Call.id == call.id).values(provider_sid=placed.sid))
    # A status callback may already have moved the call on: keep the later status.
    db.session.execute(update(Call).where(Call.id == call.id, Call.status == "initiating").values(
        status=placed.status, status_at=now, ended_at=now if placed.status == "simulated" else None))
    db.session.commit()
