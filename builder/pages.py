"""Pages behind login."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from builder import reports

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home():
    return render_template(
        "home.html",
        counts=reports.manual_action_counts(current_user),
        workflows=reports.workflow_summaries(current_user.account_id),
    )
