"""Settings pages (admins): Settings > Twilio and Settings > Messaging. Thin shells:
static/js/settings_twilio.js and settings_messaging.js read and save the settings over
/api/settings/twilio and /api/settings/messaging."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from builder.integrations.twilio_provider import WEBHOOK_PREFIX

bp = Blueprint("settings_pages", __name__)


def _webhook_url(path: str) -> str:
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + WEBHOOK_PREFIX + path


@bp.get("/settings/twilio")
@login_required
def twilio():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the Twilio settings."), 403
    return render_template(
        "settings/twilio.html",
        inbound_url=_webhook_url("/sms"),
        public_url_set=bool(current_app.config.get("PUBLIC_URL")),
    )


@bp.get("/settings/messaging")
@login_required
def messaging():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the messaging settings."), 403
    return render_template("settings/messaging.html")
