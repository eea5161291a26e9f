"""The Reports page (managers and admins): a thin shell. static/js/reports.js fetches the reports
over /api/reports/* for the chosen days and draws them with the vendored Chart.js."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from builder.domain.access import EDITORS
from builder.domain.reports import funnel_workflows
from builder.web.common import me
from builder.web.pages import CALL_OUTCOMES

bp = Blueprint("report_pages", __name__)


@bp.get("/reports")
@login_required
def reports():
    if current_user.role not in EDITORS:
        return render_template("error.html", message="Only managers and admins can see the reports."), 403
    return render_template("reports/index.html", page_config={
        "me": me(), "workflows": funnel_workflows(current_user.account_id), "outcomes": dict(CALL_OUTCOMES)})
