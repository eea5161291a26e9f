"""Pages behind login: the dashboard and Conversations > Manual Actions.

The pages are thin shells: Jinja renders the frame and a JSON config block,
and the ES modules in static/js fetch rows over the REST API and follow the
live Socket.IO events.
"""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from builder.domain.counts import manual_action_counts, workflow_summaries
from builder.web.common import assignees, me, workflow_options

bp = Blueprint("pages", __name__)

CALL_OUTCOMES = [
    ("answered", "Answered"), ("interested", "Interested"), ("not_interested", "Not interested"),
    ("left_voicemail", "Left voicemail"), ("no_answer", "No answer"), ("busy", "Busy"),
    ("wrong_number", "Wrong number"), ("call_back_later", "Call back later"),
]








@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on their own (a JSON response, say, never names one).
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/")
@login_required
def home():
    counts = manual_action_counts(current_user)
    return render_template(
        "home.html",
        counts=counts,
        workflows=workflow_summaries(current_user.account_id),
        page_config={"me": me()},
    )


@bp.get("/conversations/manual-actions")
@login_required
def manual_actions():
    return render_template(
        "conversations/manual_actions.html",
        page_config={"me": me(), "workflows": workflow_options(), "assignees": assignees()},
    )


@bp.get("/conversations/manual-actions/session")
@login_required
def manual_action_session():
    return render_template(
        "conversations/manual_action_session.html",
        outcomes=CALL_OUTCOMES,
        page_config={"me": me(), "workflows": workflow_options(), "outcomes": dict(CALL_OUTCOMES)},
    )
