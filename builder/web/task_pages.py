"""The Tasks page: a thin shell like the other pages.

Jinja renders the frame and a JSON config block; static/js/tasks.js reads the rows over the REST API
(/api/tasks), works them (complete, reopen, edit, delete, add) and follows the live `task.*` events.
Every signed-in user may open it: agents see their own tasks and their contacts', admins and managers
everyone's in the account.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from builder.web.common import assignees, me

bp = Blueprint("task_pages", __name__)


@bp.get("/tasks")
@login_required
def tasks():
    return render_template("tasks/list.html", page_config={
        "me": me(),
        # Agents give tasks only to themselves: the menu offers others to admins and managers alone.
        "assignees": assignees() if current_user.can_see_all else [me()],
    })
