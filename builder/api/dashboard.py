"""Dashboard widgets: the pending manual-action counts."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields
from sqlalchemy import func, select

from builder.api import blueprint
from builder.extensions import db
from builder.models import ManualAction, User
from builder.reports import manual_action_counts, visible_actions

bp = blueprint("api_dashboard", "/dashboard", description="Dashboard counts")


class AssigneeCount(Schema):
    assignee_id = fields.Integer(allow_none=True, metadata={"description": "null for unassigned actions"})
    assignee_name = fields.String()
    pending = fields.Integer()


class ManualActionCounts(Schema):
    pending_total = fields.Integer()
    pending_calls = fields.Integer()
    pending_sms = fields.Integer()
    by_assignee = fields.List(fields.Nested(AssigneeCount), metadata={"description": "admins and managers only"})


def _by_assignee() -> list[dict[str, Any]]:
    queued = visible_actions(g.user).where(ManualAction.status == "queued").subquery()
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


@bp.get("/manual-actions")
@bp.response(200, ManualActionCounts)
def manual_actions():
    """Pending (queued) manual actions the caller may see; admins and managers also get them per assignee."""
    counts: dict[str, Any] = manual_action_counts(g.user)
    if g.user.can_see_all:
        counts["by_assignee"] = _by_assignee()
    return counts
