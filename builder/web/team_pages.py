"""Settings > Team and Settings > Audit log (admins), and everyone's own profile. Thin shells:
static/js/settings_team.js, settings_audit.js and settings_profile.js read and write over
/api/team, /api/audit and /api/users/me."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from builder.domain.access import ADMINS
from builder.web.common import me

bp = Blueprint("team_pages", __name__)


def _admins_only(what: str):
    return render_template("error.html", message=f"Only admins can see {what}."), 403


@bp.get("/settings/team")
@login_required
def team():
    if current_user.role not in ADMINS:
        return _admins_only("and manage the team")
    return render_template("settings/team.html", page_config={"me": me()})


@bp.get("/settings/audit")
@login_required
def audit():
    if current_user.role not in ADMINS:
        return _admins_only("the audit log")
    return render_template("settings/audit.html")


@bp.get("/settings/profile")
@login_required
def profile():
    return render_template("settings/profile.html")
