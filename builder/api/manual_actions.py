"""Manual actions: the Manual SMS and Manual Call tasks workflows queue for people.

Agents see and work only the actions assigned to them; anyone else's is a 404,
so ids do not leak. Admins and managers see and work every action of the account.

Completing an action is safe to repeat: a conditional UPDATE (status still
"queued") decides which request completes it, so two concurrent completes send
one message; the other request gets the completed row back.

Deleting an action moves its workflow on to the next step, exactly like
completing it: an action created by mistake must not hold the contact in the
workflow for ever. The step's execution-log row says `resumed_by: deleted`, so a
deleted action stays distinguishable from a completed one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from flask import g
from marshmallow import Schema, ValidationError, fields, validate
from redis import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from builder import conversation_live, live
from builder.access import EDITORS
from builder.api import blueprint, fail
from builder.api.common import MAX_ID, DateTime, Flag, Id, PageQuery, PageSchema, Text, carry_out_committed, paginate
from builder.api.messaging_settings import check_quiet_hours
from builder.auth import require_role
from builder.extensions import db
from builder.models import Contact, Enrollment, ManualAction, Message, User, utcnow
from builder.reports import visible_actions
from builder.store import AfterCommit
from jobqueue import job_names, outbox
from jobqueue.queues import enqueue_at

log = logging.getLogger(__name__)

bp = blueprint("api_manual_actions", "/manual-actions", description="Manual SMS and call tasks")

CALL_OUTCOMES = (
    "answered", "interested", "not_interested", "left_voicemail", "no_answer", "busy", "wrong_number",
    "call_back_later",
)
MAX_SCHEDULE = timedelta(days=365)


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("The message is empty.")


class ActionQuery(PageQuery):
    workflow_id = Id(strict=False)
    assignee_id = Id(strict=False)
    contact_id = Id(strict=False)
    type = fields.String(validate=validate.OneOf(["sms", "call"]))
    status = fields.String(validate=validate.OneOf(["queued", "completed"]))


class CompleteSchema(Schema):
    message = Text(strip=False, validate=[validate.Length(min=1, max=1600), _not_blank],
                   metadata={"description": "SMS actions (required): the text to send"})
    send_at = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "SMS actions: send later (ISO 8601; UTC if no offset is given)"})
    outcome = fields.String(validate=validate.OneOf(CALL_OUTCOMES),
                            metadata={"description": "call actions (required): how the call went"})
    notes = Text(allow_none=True, validate=validate.Length(max=5000), metadata={"description": "call actions"})
    confirm_quiet_hours = Flag(load_default=False, metadata={
        "description": "SMS actions: send even though it is (or will be, at send_at) outside the account's quiet "
                       "hours in the contact's time zone; without it such a send is refused with 409 quiet_hours"})


class ManualActionSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    status = fields.String()
    name = fields.String()
    contact_id = fields.Integer()
    contact_name = fields.Function(lambda a: a.contact.name)
    workflow_id = fields.Integer(allow_none=True)
    workflow_name = fields.Function(lambda a: a.workflow.name if a.workflow else None, allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    assignee_name = fields.Function(lambda a: (a.assignee.name or a.assignee.email) if a.assignee else None,
                                    allow_none=True)
    message = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    is_test = fields.Boolean()
    created_at = DateTime()
    completed_at = DateTime(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    claim_expires_at = DateTime(allow_none=True)


class ManualActionPage(PageSchema):
    items = fields.List(fields.Nested(ManualActionSchema))


# --- helpers -------------------------------------------------------------

def _visible():
    return visible_actions(g.user).options(
        selectinload(ManualAction.contact), selectinload(ManualAction.workflow), selectinload(ManualAction.assignee)
    )


def _action(action_id: int) -> ManualAction:
    action = db.session.scalar(_visible().where(ManualAction.id == action_id)) if action_id <= MAX_ID else None
    if action is None:
        fail(404, f"Manual action {action_id} not found.")
    return action


def _required(name: str, message: str) -> NoReturn:
    fail(422, f"{name}: {message}", {name: [message]})


def _check_body(action: ManualAction, data: dict[str, Any]) -> None:
    """The body must fit the action's type: SMS {message, send_at?}, call {outcome, notes?}."""
    wanted, other = (("message", ("outcome", "notes")) if action.type == "sms"
                     else ("outcome", ("message", "send_at")))
    if wanted not in data:
        _required(wanted, f"Required to complete a {action.type} action.")
    for name in other:
        if name in data:
            _required(name, f"Does not apply to a {action.type} action.")


def _check_can_text(contact: Contact) -> None:
    if not contact.phone:
        fail(422, f"{contact.name or 'This contact'} has no phone number; add one before sending.")
    if contact.dnd_sms:
        fail(422, f"{contact.name or 'This contact'} asked not to be texted (DND for SMS is on); nothing was sent.")


def _send_at(data: dict[str, Any]) -> datetime | None:
    """Naive UTC, like every stored time; None means now (a time in the past means now too)."""
    when = data.get("send_at")
    if when is None:
        return None
    try:
        when = when.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        _required("send_at", "That date is out of range.")
    now = utcnow()
    if when - now > MAX_SCHEDULE:
        _required("send_at", "Schedule messages at most a year ahead.")
    return when if when > now else None


def _claim(action: ManualAction, values: dict[str, Any]) -> bool:
    """Change a still-queued action; False if another request got there first."""
    result = db.session.execute(
        update(ManualAction).where(ManualAction.id == action.id, ManualAction.status == "queued").values(**values)
    )
    return result.rowcount == 1


def _record_message(action: ManualAction, body: str, send_at: datetime | None) -> Message:
    message = Message(
        account_id=action.account_id, contact_id=action.contact_id, direction="outbound", channel="sms",
        to_number=action.contact.phone, body=body, status="queued", idempotency_key=f"manual:{action.id}",
        workflow_id=action.workflow_id, enrollment_id=action.enrollment_id, manual_action_id=action.id,
        sent_by_id=g.user.id, is_test=action.is_test, send_at=send_at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _send_or_schedule(message: Message) -> None:
    if message.send_at is None:
        outbox.deliver([message.id])
        return
    try:
        enqueue_at(message.send_at, job_names.DELIVER_MESSAGES, [message.id])
    except RedisError:  # the reconciler sends scheduled messages that are due
        log.exception("could not schedule message %s; the reconciler will send it when due", message.id)


def _parked_run(action: ManualAction) -> tuple[int, int] | None:
    """The run parked on this action, as (enrollment id, seq), if there is one."""
    if not action.parks_enrollment or action.enrollment_id is None:
        return None
    run = db.session.get(Enrollment, action.enrollment_id)
    if run is None or run.status != "parked" or run.current_step != action.step_id:
        return None
    return run.id, run.seq


def _resume(run: tuple[int, int] | None, event: str) -> None:
    if run is not None:
        carry_out_committed(AfterCommit(resumes=[(*run, event)]))


def _lost_race(action_id: int) -> ManualAction:
    db.session.rollback()
    return _action(action_id)


# --- routes --------------------------------------------------------------

@bp.get("")
@bp.arguments(ActionQuery, location="query")
@bp.response(200, ManualActionPage)
def list_actions(args: dict[str, Any]):
    """Manual actions, newest first. Agents see only their own, whatever the filters say."""
    query = _visible()
    for name in ("workflow_id", "assignee_id", "contact_id", "type", "status"):
        if name in args:
            query = query.where(getattr(ManualAction, name) == args[name])
    return paginate(query.order_by(ManualAction.created_at.desc(), ManualAction.id.desc()), args)


@bp.get("/<int:action_id>")
@bp.response(200, ManualActionSchema)
def get_action(action_id: int):
    return _action(action_id)


@bp.post("/<int:action_id>/complete")
@bp.arguments(CompleteSchema)
@bp.response(200, ManualActionSchema)
def complete_action(data: dict[str, Any], action_id: int):
    """Complete an action: SMS {message, send_at?} sends (or schedules) the text; call {outcome, notes?}
    records how the call went. A run parked on the action moves on. Completing twice changes nothing."""
    action = _action(action_id)
    _check_body(action, data)
    if action.status == "completed":
        return action
    now = utcnow()
    values: dict[str, Any] = {"status": "completed", "completed_at": now, "completed_by_id": g.user.id,
                              "updated_at": now, "claimed_by_id": None, "claim_expires_at": None}
    send_at = None
    if action.type == "sms":
        _check_can_text(action.contact)
        send_at = _send_at(data)
        check_quiet_hours(action.contact, send_at, data["confirm_quiet_hours"])
        values["message"] = data["message"]
    else:
        values.update(outcome=data["outcome"], notes=data.get("notes"))
    if not _claim(action, values):
        return _lost_race(action_id)
    message = _record_message(action, data["message"], send_at) if action.type == "sms" else None
    run = _parked_run(action)
    db.session.commit()
    live.publish_action(action, "updated")  # first: every open queue is waiting for this row
    if message is not None:
        conversation_live.publish([message], "created")
        _send_or_schedule(message)
    _resume(run, "completed")
    return _action(action_id)


@bp.delete("/<int:action_id>")
@bp.response(204)
def delete_action(action_id: int):
    """Remove an action from the queue; a run parked on it moves on to its next step."""
    action = _action(action_id)
    now = utcnow()
    was_queued = action.status == "queued"
    changed = db.session.execute(
        update(ManualAction).where(ManualAction.id == action.id, ManualAction.status == action.status)
        .values(status="deleted", deleted_at=now, updated_at=now)
    ).rowcount
    if changed != 1:
        _lost_race(action_id)
        fail(409, "The action changed while it was being deleted; look at it again and retry.")
    run = _parked_run(action) if was_queued else None
    db.session.commit()
    _resume(run, "deleted")
    live.publish_action(action, "deleted")


class ReassignSchema(Schema):
    assignee_id = Id(required=True, allow_none=True, metadata={"description": "null puts it in the shared queue"})


@bp.patch("/<int:action_id>")
@require_role(*EDITORS)
@bp.arguments(ReassignSchema)
@bp.response(200, ManualActionSchema)
def reassign_action(data: dict[str, Any], action_id: int):
    """Give a queued action to another user (admins and managers); any claim on it ends."""
    action = _action(action_id)
    user_id = data["assignee_id"]
    if user_id is not None and db.session.scalar(select(User.id).where(
            User.id == user_id, User.account_id == g.user.account_id, User.active)) is None:
        _required("assignee_id", f"No active user {user_id} in this account.")
    previous = action.assignee_id
    if not _claim(action, {"assignee_id": user_id, "claimed_by_id": None, "claim_expires_at": None,
                           "updated_at": utcnow()}):
        _lost_race(action_id)
        fail(409, "Only queued actions can be reassigned.")
    db.session.commit()
    live.publish_action(action, "updated", previous_assignee_id=previous)
    return _action(action_id)
