"""Settings > Custom values (admins): a thin shell; static/js/settings_custom_values.js lists, adds,
edits and deletes the values over /api/settings/custom-values."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("custom_value_pages", __name__)


@bp.get("/settings/custom-values")
@login_required
def custom_values():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the custom values."), 403
    return render_template("settings/custom_values.html")
