"""Counts shared by the pages, the API and live events: pending manual actions, workflow summaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from builder.domain.access import account_actions, visible_actions
from builder.extensions import db
from builder.models import Enrollment, ManualAction, ManualActionStatus, ManualActionType, User, Workflow
from engine.statuses import OPEN_VALUES


def _queued(actions: Select):
    # A test run's actions are nobody's work: they never count.
    return actions.where(ManualAction.status == ManualActionStatus.QUEUED, ManualAction.is_test.is_(False)).subquery()


def pending_counts(actions: Select) -> dict[str, int]:
    """Queued actions among `actions` (test runs' left out): in all, calls, SMS."""
    queued = _queued(actions)
    total, calls, sms = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((queued.c.type == ManualActionType.CALL, 1), else_=0)), 0),
        func.coalesce(func.sum(case((queued.c.type == ManualActionType.SMS, 1), else_=0)), 0),
    ).select_from(queued)).one()
    return {"pending_total": int(total), "pending_calls": int(calls), "pending_sms": int(sms)}


def manual_action_counts(user: User) -> dict[str, int]:
    return pending_counts(visible_actions(user))


def pending_by_assignee(actions: Select) -> list[dict[str, Any]]:
    """Queued actions among `actions` per assignee, busiest first; unassigned ones as "Unassigned"."""
    queued = _queued(actions)
    pending = func.count().label("pending")
    rows = db.session.execute(
        select(queued.c.assignee_id, User.name, User.email, pending)
        .outerjoin(User, User.id == queued.c.assignee_id)
        .group_by(queued.c.assignee_id, User.name, User.email)
        # Unassigned after named people with the same count, on every database (NULLs sort differently).
        .order_by(pending.desc(), queued.c.assignee_id.is_(None), User.name)
    ).all()
    return [
        {"assignee_id": uid, "assignee_name": (name or email) if uid else "Unassigned", "pending": n}
        for uid, name, email, n in rows
    ]


def account_counts(account_id: int) -> dict[str, Any]:
    """The pending counts as admins and managers see them: the whole account, and per assignee."""
    actions = account_actions(account_id)
    return {**pending_counts(actions), "by_assignee": pending_by_assignee(actions)}


def counts_for(user: User) -> dict[str, Any]:
    """The dashboard's (and the live counts') view for this user: their own queue, or the account's."""
    return account_counts(user.account_id) if user.can_see_all else manual_action_counts(user)


def workflow_summaries(account_id: int) -> list[dict]:
    counts = dict(
        ((wid, status), n)
        for wid, status, n in db.session.execute(
            select(Enrollment.workflow_id, Enrollment.status, func.count())
            .where(Enrollment.account_id == account_id, Enrollment.is_test.is_(False))
            .group_by(Enrollment.workflow_id, Enrollment.status)
        )
    )
    rows = []
    for wf in db.session.scalars(select(Workflow).where(Workflow.account_id == account_id).order_by(Workflow.id)):
        rows.append({
            "id": wf.id, "name": wf.name, "status": "published" if wf.published_version_id else "draft",
            "active": sum(counts.get((wf.id, s), 0) for s in OPEN_VALUES),
            "completed": counts.get((wf.id, "completed"), 0),
        })
    return rows
