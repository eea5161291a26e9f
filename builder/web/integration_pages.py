"""Settings > Integrations (admins): the signing secret of outbound webhooks and the Slack channel.
A thin shell: static/js/settings_integrations.js reads and saves over /api/settings/integrations."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("integration_pages", __name__)


@bp.get("/settings/integrations")
@login_required
def integrations():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the integration settings."), 403
    return render_template("settings/integrations.html")
