"""Pages behind login for contacts: the list (with Add to Automation) and one contact's conversation.

Thin shells like the other pages: Jinja renders the frame and a JSON config
block, and static/js/contacts.js and contact.js fetch everything else over the
REST API. Agents see only the contacts assigned to them (anyone else's contact
page is a 404, as in the API); only admins and managers add contacts to
automation.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from builder.domain.access import EDITORS, visible_contacts
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.models import MAX_ID, Contact, ContactTag, User, Workflow
from builder.web.common import assignees, me

bp = Blueprint("contact_pages", __name__)
TAG_SUGGESTIONS = 200


def _visible_contacts():
    return visible_contacts(current_user)


def _published_workflows() -> list[dict[str, Any]]:
    """What Add to Automation offers: only published workflows enroll contacts."""
    rows = db.session.execute(
        account_workflows(current_user.account_id).with_only_columns(Workflow.id, Workflow.name)
        .where(Workflow.published_version_id.is_not(None)).order_by(Workflow.name, Workflow.id)
    )
    return [{"id": wid, "name": name} for wid, name in rows]


def _tags() -> list[str]:
    """Tags on the contacts the user may see, for the tag filter's suggestions."""
    visible = _visible_contacts().with_only_columns(Contact.id).subquery()
    rows = db.session.scalars(
        select(ContactTag.tag).join(visible, visible.c.id == ContactTag.contact_id).distinct()
        .order_by(ContactTag.tag).limit(TAG_SUGGESTIONS)
    )
    # Tags ignore case: "VIP" on one contact and "vip" on another is one suggestion (the filter finds both).
    suggestions: dict[str, str] = {}
    for tag in rows:
        suggestions.setdefault(tag.casefold(), tag)
    return list(suggestions.values())


@bp.get("/contacts")
@login_required
def contacts():
    can_enroll = current_user.role in EDITORS
    return render_template("contacts/list.html", timezones=timezones(), page_config={
        "me": me(), "can_enroll": can_enroll, "assignees": assignees(), "tags": _tags(),
        "workflows": _published_workflows() if can_enroll else [],
    })


@bp.get("/contacts/<int:contact_id>")
@login_required
def contact(contact_id: int):
    found = db.session.scalar(_visible_contacts().where(Contact.id == contact_id)) if contact_id <= MAX_ID else None
    if found is None:
        abort(404)
    assignee = db.session.get(User, found.assigned_user_id) if found.assigned_user_id else None
    editor = current_user.role in EDITORS
    return render_template("contacts/contact.html", contact=found, timezones=timezones(), page_config={
        "me": me(), "contact_id": found.id,
        "assignee": {"id": assignee.id, "name": assignee.name or assignee.email} if assignee else None,
        # The API's rules, mirrored so the page offers only what it allows: editors reassign and delete.
        "can_assign": editor, "can_delete": editor, "assignees": assignees(),
    })


@cache
def timezones() -> list[str]:
    """The IANA zones the contact form offers (the API accepts exactly these)."""
    return sorted(available_timezones())
