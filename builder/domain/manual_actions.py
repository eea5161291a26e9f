"""Working a manual action: complete, delete, reassign.

Each is safe to race: a conditional UPDATE (status still what it was) decides which request
changes the action, and the loser is told so (False) and shown the row as it now is. Deleting
moves the run parked on the action on, exactly like completing it: an action created by
mistake must not hold the contact in the workflow for ever (the log row says `resumed_by:
deleted`). Functions work in the caller's transaction; the live events, the text and the
resumed run follow the commit through `after`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from builder.domain import goal_events, messaging
from builder.domain.errors import Invalid
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Enrollment, ManualAction, ManualActionStatus, ManualActionType, User, utcnow
from engine import goals
from engine.statuses import RunStatus


def check_complete(action: ManualAction, data: dict[str, Any]) -> datetime | None:
    """Refuse a completion the rules forbid before anything changes; returns the SMS's send time."""
    if action.type != ManualActionType.SMS:
        return None
    messaging.check_can_text(action.contact)
    send_at = messaging.send_time(data.get("send_at"))
    messaging.check_quiet_hours(action.contact, send_at, data["confirm_quiet_hours"])
    return send_at


def complete(action: ManualAction, data: dict[str, Any], send_at: datetime | None, *, by: int,
             after: AfterCommit) -> bool:
    """SMS: record the text (sent or scheduled after the commit); call: record how it went. False if
    another request completed or removed it first."""
    now = utcnow()
    values: dict[str, Any] = {"status": ManualActionStatus.COMPLETED, "completed_at": now, "completed_by_id": by,
                              "updated_at": now, "claimed_by_id": None, "claim_expires_at": None}
    if action.type == ManualActionType.SMS:
        values["message"] = data["message"]
    else:
        values.update(outcome=data["outcome"], notes=data.get("notes"))
    if not _change_queued(action, values):
        return False
    after.updated_actions[action.id] = None
    if action.type == ManualActionType.SMS:
        messaging.record_text(action.contact, data["message"], send_at, after, sent_by_id=by,
                              idempotency_key=f"manual:{action.id}", workflow_id=action.workflow_id,
                              enrollment_id=action.enrollment_id, manual_action_id=action.id, is_test=action.is_test)
    _resume(action, "completed", after)
    # Then goals: a run that can reach a "manual action completed" goal jumps to it (its resume above is stale).
    goal_events.meet(db.session, action.account_id, action.contact,
                     [goals.Event(goals.MANUAL_ACTION_COMPLETED)], after)
    return True


def delete(action: ManualAction, after: AfterCommit) -> bool:
    """Take the action out of the queue (a completed one out of the lists); False if it changed meanwhile."""
    now = utcnow()
    was_queued = action.status == ManualActionStatus.QUEUED
    changed = db.session.execute(
        update(ManualAction).where(ManualAction.id == action.id, ManualAction.status == action.status)
        .values(status=ManualActionStatus.DELETED, deleted_at=now, updated_at=now)
    ).rowcount
    if changed != 1:
        return False
    after.removed_actions.append(action)
    if was_queued:
        _resume(action, "deleted", after)
    return True


def reassign(action: ManualAction, user_id: int | None, after: AfterCommit) -> bool:
    """Give a queued action to an active user of its account (None: the shared queue); any claim
    ends. False if it is no longer queued."""
    if user_id is not None and db.session.scalar(select(User.id).where(
            User.id == user_id, User.account_id == action.account_id, User.active)) is None:
        raise Invalid.at({"assignee_id": [f"No active user {user_id} in this account."]})
    previous = action.assignee_id
    if not _change_queued(action, {"assignee_id": user_id, "claimed_by_id": None, "claim_expires_at": None,
                                   "updated_at": utcnow()}):
        return False
    after.updated_actions[action.id] = previous
    return True


def _change_queued(action: ManualAction, values: dict[str, Any]) -> bool:
    """Change a still-queued action; False if another request got there first."""
    return db.session.execute(
        update(ManualAction).where(ManualAction.id == action.id, ManualAction.status == ManualActionStatus.QUEUED)
        .values(**values)
    ).rowcount == 1


def _resume(action: ManualAction, event: str, after: AfterCommit) -> None:
    """Move on the run parked on this action, if there is one."""
    if not action.parks_enrollment or action.enrollment_id is None:
        return
    run = db.session.get(Enrollment, action.enrollment_id)
    if run is not None and run.status == RunStatus.PARKED and run.current_step == action.step_id:
        after.resumes.append((run.id, run.seq, event))
