"""Settings > Email (admins): the SMTP server and sender of Send Email steps. A thin shell:
static/js/settings_email.js reads and saves over /api/settings/email."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("email_settings_pages", __name__)


@bp.get("/settings/email")
@login_required
def email():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the email settings."), 403
    return render_template("settings/email.html")
