"""Manual actions: the Manual SMS and Manual Call tasks workflows queue for people.

Agents see and work only the actions assigned to them; anyone else's is a 404,
so ids do not leak. Admins and managers see and work every action of the account.

Completing an action is safe to repeat: two concurrent completes send one
message; the other request gets the completed row back. The rules (races,
resuming the parked run, deleting) are in builder.domain.manual_actions.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any, NoReturn

from flask import g
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from builder.api.base import blueprint, fail
from builder.api.common import paginate
from builder.domain import manual_actions
from builder.domain.access import EDITORS, visible_actions
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import MAX_ID, ManualAction, ManualActionStatus, ManualActionType
from builder.schemas.fields import Flag, Id, PageQuery, PageSchema, Text, not_blank
from builder.schemas.manual_actions import ManualActionSchema
from jobqueue.effects import carry_out_committed

log = logging.getLogger(__name__)

bp = blueprint("api_manual_actions", "/manual-actions", description="Manual SMS and call tasks")

CALL_OUTCOMES = (
    "answered", "interested", "not_interested", "left_voicemail", "no_answer", "busy", "wrong_number",
    "call_back_later",
)


class ActionQuery(PageQuery):
    workflow_id = Id(strict=False)
    assignee_id = Id(strict=False)
    contact_id = Id(strict=False)
    type = fields.String(validate=validate.OneOf([t.value for t in ManualActionType]))
    status = fields.String(validate=validate.OneOf([ManualActionStatus.QUEUED.value,
                                                    ManualActionStatus.COMPLETED.value]))


class CompleteSchema(Schema):
    message = Text(strip=False, validate=[validate.Length(min=1, max=1600), not_blank],
                   metadata={"description": "SMS actions (required): the text to send"})
    send_at = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "SMS actions: send later (ISO 8601; UTC if no offset is given)"})
    outcome = fields.String(validate=validate.OneOf(CALL_OUTCOMES),
                            metadata={"description": "call actions (required): how the call went"})
    notes = Text(allow_none=True, validate=validate.Length(max=5000), metadata={"description": "call actions"})
    confirm_quiet_hours = Flag(load_default=False, metadata={
        "description": "SMS actions: send even though it is (or will be, at send_at) outside the account's quiet "
                       "hours in the contact's time zone; without it such a send is refused with 409 quiet_hours"})


class ManualActionPage(PageSchema):
    items = fields.List(fields.Nested(ManualActionSchema))


# --- helpers -------------------------------------------------------------

def _visible():
    return visible_actions(g.user).options(
        selectinload(ManualAction.contact), selectinload(ManualAction.workflow), selectinload(ManualAction.assignee)
    )


def visible_action(action_id: int) -> ManualAction:
    action = db.session.scalar(_visible().where(ManualAction.id == action_id)) if action_id <= MAX_ID else None
    if action is None:
        fail(404, f"Manual action {action_id} not found.")
    return action


def _required(name: str, message: str) -> NoReturn:
    fail(422, f"{name}: {message}", {name: [message]})


def _check_body(action: ManualAction, data: dict[str, Any]) -> None:
    """The body must fit the action's type: SMS {message, send_at?}, call {outcome, notes?}."""
    wanted, other = (("message", ("outcome", "notes")) if action.type == ManualActionType.SMS
                     else ("outcome", ("message", "send_at")))
    if wanted not in data:
        _required(wanted, f"Required to complete a {action.type} action.")
    for name in other:
        if name in data:
            _required(name, f"Does not apply to a {action.type} action.")


def _lost_race(action_id: int) -> ManualAction:
    db.session.rollback()
    return visible_action(action_id)


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
    return visible_action(action_id)


@bp.post("/<int:action_id>/complete")
@bp.arguments(CompleteSchema)
@bp.response(200, ManualActionSchema)
def complete_action(data: dict[str, Any], action_id: int):
    """Complete an action: SMS {message, send_at?} sends (or schedules) the text; call {outcome, notes?}
    records how the call went. A run parked on the action moves on. Completing twice changes nothing."""
    action = visible_action(action_id)
    _check_body(action, data)
    if action.status == ManualActionStatus.COMPLETED:
        return action
    send_at = manual_actions.check_complete(action, data)
    after = AfterCommit()
    if not manual_actions.complete(action, data, send_at, by=g.user.id, after=after):
        return _lost_race(action_id)
    db.session.commit()
    carry_out_committed(after)
    return visible_action(action_id)


@bp.delete("/<int:action_id>")
@bp.response(204)
def delete_action(action_id: int):
    """Remove an action from the queue; a run parked on it moves on to its next step."""
    after = AfterCommit()
    if not manual_actions.delete(visible_action(action_id), after):
        _lost_race(action_id)
        fail(409, "The action changed while it was being deleted; look at it again and retry.")
    db.session.commit()
    carry_out_committed(after)


class ReassignSchema(Schema):
    assignee_id = Id(required=True, allow_none=True, metadata={"description": "null puts it in the shared queue"})


@bp.patch("/<int:action_id>")
@require_role(*EDITORS)
@bp.arguments(ReassignSchema)
@bp.response(200, ManualActionSchema)
def reassign_action(data: dict[str, Any], action_id: int):
    """Give a queued action to another user (admins and managers); any claim on it ends."""
    after = AfterCommit()
    if not manual_actions.reassign(visible_action(action_id), data["assignee_id"], after):
        _lost_race(action_id)
        fail(409, "Only queued actions can be reassigned.")
    db.session.commit()
    carry_out_committed(after)
    return visible_action(action_id)
