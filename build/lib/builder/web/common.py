"""What several pages put in their config: the signed-in user and the menus' options."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from builder.extensions import db
from builder.models import User, Workflow


def me() -> dict:
    """The signed-in user, as every page's config gives it to the scripts."""
    return {"id": current_user.id, "name": current_user.name or current_user.email, "role": current_user.role,
            "can_see_all": current_user.can_see_all}


def workflow_options() -> list[dict]:
    """The account's workflows by name, for filter menus."""
    rows = db.session.execute(
        select(Workflow.id, Workflow.name).where(Workflow.account_id == current_user.account_id)
        .order_by(Workflow.name, Workflow.id)
    ).all()
    return [{"id": wid, "name": name} for wid, name in rows]


def assignees() -> list[dict]:
    """Active users of the account, for assignee menus (editors only)."""
    if not current_user.can_see_all:
        return []  # agents only ever see their own actions
    rows = db.session.scalars(
        select(User).where(User.account_id == current_user.account_id, User.active.is_(True)).order_by(User.name)
    ).all()
    return [{"id": u.id, "name": u.name or u.email} for u in rows]

