"""Pages behind login: the dashboard and Conversations > Manual Actions.

The pages are thin shells: Jinja renders the frame and a JSON config block,
and the ES modules in static/js fetch rows over the REST API and follow the
live Socket.IO events.
"""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from builder import reports
from builder.extensions import db
from builder.models import User, Workflow

bp = Blueprint("pages", __name__)

CALL_OUTCOMES = [
    ("answered", "Answered"), ("interested", "Interested"), ("not_interested", "Not interested"),
    ("left_voicemail", "Left voicemail"), ("no_answer", "No answer"), ("busy", "Busy"),
    ("wrong_number", "Wrong number"), ("call_back_later", "Call back later"),
]


def _me() -> dict:
    return {"id": current_user.id, "name": current_user.name or current_user.email, "role": current_user.role,
            "can_see_all": current_user.can_see_all}


def _workflows() -> list[dict]:
    rows = db.session.execute(
        select(Workflow.id, Workflow.name).where(Workflow.account_id == current_user.account_id)
        .order_by(Workflow.name, Workflow.id)
    ).all()
    return [{"id": wid, "name": name} for wid, name in rows]


def _assignees() -> list[dict]:
    if not current_user.can_see_all:
        return []  # agents only ever see their own actions
    rows = db.session.scalars(
        select(User).where(User.account_id == current_user.account_id, User.active.is_(True)).order_by(User.name)
    ).all()
    return [{"id": u.id, "name": u.name or u.email} for u in rows]


@bp.get("/")
@login_required
def home():
    counts = reports.manual_action_counts(current_user)
    return render_template(
        "home.html",
        counts=counts,
        workflows=reports.workflow_summaries(current_user.account_id),
        page_config={"me": _me()},
    )


@bp.get("/conversations/manual-actions")
@login_required
def manual_actions():
    return render_template(
        "manual_actions.html",
        page_config={"me": _me(), "workflows": _workflows(), "assignees": _assignees()},
    )


@bp.get("/conversations/manual-actions/session")
@login_required
def manual_action_session():
    return render_template(
        "manual_action_session.html",
        outcomes=CALL_OUTCOMES,
        page_config={"me": _me(), "workflows": _workflows(), "outcomes": dict(CALL_OUTCOMES)},
    )
