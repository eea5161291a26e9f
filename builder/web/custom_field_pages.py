"""Settings > Custom fields (admins): a thin shell; static/js/settings_custom_fields.js lists, adds,
edits and deletes the fields over /api/settings/custom-fields."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("custom_field_pages", __name__)


@bp.get("/settings/custom-fields")
@login_required
def custom_fields():
    if current_user.role != "admin":
        return render_template("error.html", message="Only admins can see and change the custom fields."), 403
    return render_template("settings/custom_fields.html")
