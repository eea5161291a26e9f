"""Pages behind login for Automation > Workflows: the list and the builder.

Both are thin shells, like the other pages: Jinja renders the frame and a JSON config block, and
the ES modules fetch everything else over the REST API. Everyone sees the list (agents read-only);
only admins and managers open the builder.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from builder.domain import custom_fields, custom_values
from builder.domain.access import EDITORS
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.models import Contact, User, Workflow
from builder.web.common import me
from engine.graph import TRIGGER_TYPES

bp = Blueprint("workflow_pages", __name__)
CUSTOM_FIELD_SAMPLE = 500  # recent contacts read for custom field names (the merge-field picker)
STANDARD_MERGE_FIELDS = [
    ("First name", "first_name"), ("Last name", "last_name"), ("Full name", "name"), ("Email", "email"),
    ("Phone", "phone"), ("Time zone", "timezone"), ("Tags", "tags | join(', ')"),
    ("Engagement score", "engagement_score"),
]


def can_edit() -> bool:
    return current_user.role in EDITORS


@bp.get("/workflows")
@login_required
def workflows():
    return render_template("workflows/list.html", page_config={
        "me": me(), "can_edit": can_edit(), "trigger_labels": dict(TRIGGER_TYPES)})  # plain dict: sent as JSON


@bp.get("/workflows/<int:workflow_id>/edit")
@login_required
def edit(workflow_id: int):
    if not can_edit():
        abort(403)
    found = db.session.scalar(account_workflows(current_user.account_id).where(Workflow.id == workflow_id))
    if found is None:
        abort(404)
    custom = custom_field_labels(current_user.account_id)
    return render_template("workflows/builder.html", workflow=found, page_config={
        "me": me(), "workflow_id": found.id, "can_edit": True, "users": _users(), "custom_fields": list(custom),
        "merge_fields": merge_fields(custom) + custom_value_fields(current_user.account_id),
    })


def _users() -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.account_id == current_user.account_id, User.active.is_(True)).order_by(User.name, User.id)
    )
    return [{"id": uid, "name": name or email} for uid, name, email in rows]


def custom_field_labels(account_id: int) -> dict[str, str]:
    """Custom field key -> label: the account's defined fields (Settings > Custom fields), in their order.
    An account that defines none keeps free-form keys: those its most recent contacts use (the column is JSON)."""
    defined = {field.key: field.label or field.key for field in custom_fields.account_fields(account_id)}
    if defined:
        return defined
    rows = db.session.scalars(
        select(Contact.custom_fields).where(Contact.account_id == account_id, Contact.deleted_at.is_(None))
        .order_by(Contact.id.desc()).limit(CUSTOM_FIELD_SAMPLE)
    )
    return {key: key for key in sorted({key for fields in rows for key in (fields or {})}, key=str.casefold)}


def custom_value_fields(account_id: int) -> list[dict[str, str]]:
    """The account's custom values for the merge menu (Settings > Custom values; keys are names)."""
    return [{"label": f"Custom value: {key}", "value": f"custom_values.{key}"}
            for key in sorted(custom_values.defined_keys(account_id))]


def merge_fields(custom: dict[str, str]) -> list[dict[str, str]]:
    standard = [{"label": label, "value": f"contact.{name}"} for label, name in STANDARD_MERGE_FIELDS]
    # contact.custom["a b"] reaches any key; the dotted form only those that are names.
    extra = [{"label": label, "value": f"contact.custom.{key}" if key.isidentifier() else
              f"contact.custom[{json.dumps(key)}]"} for key, label in custom.items()]
    return standard + extra
