"""Read-side queries shared by pages and the API."""

from __future__ import annotations

from sqlalchemy import case, func, select

from builder.extensions import db
from builder.models import Enrollment, ManualAction, User, Workflow


def visible_actions(user: User):
    """Manual actions the user may see: agents only their own, managers and admins all."""
    query = select(ManualAction).where(ManualAction.account_id == user.account_id, ManualAction.deleted_at.is_(None))
    if not user.can_see_all:
        query = query.where(ManualAction.assignee_id == user.id)
    return query


def manual_action_counts(user: User) -> dict[str, int]:
    queued = visible_actions(user).where(ManualAction.status == "queued").subquery()
    total, calls, sms = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((queued.c.type == "call", 1), else_=0)), 0),
        func.coalesce(func.sum(case((queued.c.type == "sms", 1), else_=0)), 0),
    ).select_from(queued)).one()
    return {"pending_total": int(total), "pending_calls": int(calls), "pending_sms": int(sms)}


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
            "active": sum(counts.get((wf.id, s), 0) for s in ("active", "waiting", "parked")),
            "completed": counts.get((wf.id, "completed"), 0),
        })
    return rows
