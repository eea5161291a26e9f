"""Contacts > Import (admins and managers): a thin shell like the other pages; static/js/contact_import.js
uploads the file, shows the mapping and options, and follows the import over /api/contacts/imports."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from builder.domain.access import EDITORS
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.models import Workflow
from builder.web.common import me

bp = Blueprint("contact_import_pages", __name__)


def _published_workflows() -> list[dict]:
    """What "add the contacts to a workflow" offers: only published workflows enroll."""
    rows = db.session.execute(
        account_workflows(current_user.account_id).with_only_columns(Workflow.id, Workflow.name)
        .where(Workflow.published_version_id.is_not(None)).order_by(Workflow.name, Workflow.id))
    return [{"id": wid, "name": name} for wid, name in rows]


@bp.get("/contacts/import")
@login_required
def import_contacts():
    if current_user.role not in EDITORS:
        abort(403)
    return render_template("contacts/import.html", page_config={"me": me(), "workflows": _published_workflows()})
