"""Contacts: the people workflows run for.

Admins and managers see and edit every contact of their account. Agents see
only the contacts assigned to them and may edit those, but may not create,
delete or reassign contacts. A contact the caller may not see, or another
account's, is a 404, so ids do not leak.

PATCH follows JSON merge-patch (RFC 7396): fields left out are kept, `tags`
replaces the whole list, `custom_fields` merges key by key and a null value
removes a key. The rules are in builder.domain.contacts.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from builder.api.base import blueprint, fail
from builder.api.common import paginate
from builder.domain import access, contacts, timeline
from builder.domain.access import EDITORS
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.http.auth import require_role
from builder.live import conversation_events
from builder.models import MAX_ID, Contact
from builder.schemas.contacts import ContactCreate, ContactPatch, ContactSchema
from builder.schemas.fields import Id, PageQuery, PageSchema, Text
from builder.schemas.timestamps import DateTime
from jobqueue.effects import carry_out_committed

log = logging.getLogger(__name__)

bp = blueprint("api_contacts", "/contacts", description="Contacts")
CONTACT = ContactSchema()


# --- contact fields ------------------------------------------------------



















class ContactQuery(PageQuery):
    q = Text(validate=validate.Length(max=200), metadata={"description": "words matched in name, email and phone"})
    tag = Text(validate=validate.Length(min=1, max=100))
    assigned_user_id = Id(strict=False)
    is_test = fields.Boolean(metadata={"description": "only test contacts (true) or only real ones (false)"})


class ContactPage(PageSchema):
    items = fields.List(fields.Nested(ContactSchema))


class TimelineQuery(Schema):
    before = Text(validate=validate.Length(min=1, max=80),
                  metadata={"description": "the `next` cursor of the previous page"})
    limit = fields.Integer(load_default=30, validate=validate.Range(min=1, max=100))


class TimelineItem(Schema):
    """One event; `kind` says which of the optional fields it has."""

    kind = fields.String(metadata={"enum": list(timeline.KINDS)})
    id = fields.Integer()
    at = DateTime()
    is_test = fields.Boolean()
    author = fields.String(allow_none=True, metadata={"description": "who wrote, sent, called or is assigned"})
    body = fields.String()  # message, note
    direction = fields.String()  # message
    channel = fields.String()
    send_at = DateTime(allow_none=True)
    status = fields.String()  # message, call, manual_action, run
    error = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)  # call, manual_action
    notes = fields.String(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)  # call
    manual_action_id = fields.Integer(allow_none=True)
    type = fields.String()  # manual_action: sms | call
    name = fields.String()
    completed_at = DateTime(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    workflow_name = fields.String(allow_none=True)
    current_step = fields.String(allow_none=True)  # run
    step_name = fields.String(allow_none=True)
    finished_at = DateTime(allow_none=True)
    log_url = fields.String(allow_none=True, metadata={"description": "the run's execution log (editors)"})
    to = fields.String()  # email: the address it went to
    subject = fields.String()  # email
    provider = fields.String(allow_none=True)  # email: smtp | console
    simulated = fields.Boolean(metadata={"description": "email: recorded by the console provider, not sent"})
    error_code = fields.String(allow_none=True)  # email: the SMTP reply code, dnd, ...
    sent_at = DateTime(allow_none=True)  # email


class TimelinePage(Schema):
    items = fields.List(fields.Nested(TimelineItem))
    next = fields.String(allow_none=True, metadata={"description": "pass as `before` for the older items"})


class NoteCreate(Schema):
    body = Text(required=True, validate=[validate.Length(min=1, error="Write the note first."),
                                         validate.Length(max=timeline.NOTE_MAX)])


# --- helpers -------------------------------------------------------------

def visible_contacts() -> Select:
    return access.visible_contacts(g.user)


def find_contact(contact_id: int) -> Contact:
    """A contact the caller may see, or 404 (one they may not see looks exactly like a missing one)."""
    # The tags in the same query (one statement instead of two): every caller reads or replaces them.
    query = visible_contacts().options(joinedload(Contact.tag_rows)).where(Contact.id == contact_id)
    contact = db.session.execute(query).unique().scalar_one_or_none() if contact_id <= MAX_ID else None
    if contact is None:
        fail(404, f"Contact {contact_id} not found.")
    return contact










# --- routes --------------------------------------------------------------

@bp.get("")
@bp.arguments(ContactQuery, location="query")
@bp.response(200, ContactPage)
def list_contacts(args: dict[str, Any]):
    """Contacts the caller may see, newest first, filtered and paged."""
    return paginate(contacts.matching(g.user, args).order_by(Contact.id.desc()), args)


@bp.post("")
@require_role(*EDITORS)
@bp.arguments(ContactCreate)
@bp.response(201, ContactSchema)
def create_contact(data: dict[str, Any]):
    """Create a contact (admins and managers)."""
    after = AfterCommit()
    contact = contacts.create_contact(g.user.account_id, data, after)
    db.session.commit()
    carry_out_committed(after)
    return contact


@bp.get("/<int:contact_id>")
@bp.response(200, ContactSchema)
def get_contact(contact_id: int):
    return find_contact(contact_id)


@bp.patch("/<int:contact_id>")
@bp.arguments(ContactPatch)
@bp.response(200, ContactSchema)
def update_contact(data: dict[str, Any], contact_id: int):
    """Change some fields; agents may edit their own contacts but not reassign them."""
    contact = find_contact(contact_id)
    if not g.user.can_see_all and data.get("assigned_user_id", contact.assigned_user_id) != contact.assigned_user_id:
        fail(403, "Only admins and managers can reassign contacts.")
    after = AfterCommit()
    contacts.update_contact(contact, data, after)
    db.session.flush()
    if "tags" in data and len(contact.tag_rows) > 1:
        # Read back in the relationship's order (ORDER BY tag, in the database's collation), as the
        # answer always listed them: new rows were appended at the end.
        db.session.expire(contact, ["tag_rows"])
    # The answer is the contact as it commits, dumped now: after the commit (and the live event's own
    # read) it would be expired, and reading it again would cost another transaction and two queries.
    payload = CONTACT.dump(contact)
    conversation_events.prepare_contacts(after, [(contact, payload)])  # the live event carries the same
    answer = jsonify(payload)
    db.session.commit()
    carry_out_committed(after)
    return answer


@bp.delete("/<int:contact_id>")
@require_role(*EDITORS)
@bp.response(204)
def delete_contact(contact_id: int):
    """Soft-delete: the contact leaves lists and workflows; its history stays readable
    (what goes with it: builder.domain.contacts.delete_contact)."""
    after = AfterCommit()
    contacts.delete_contact(find_contact(contact_id), after)
    db.session.commit()
    carry_out_committed(after)


@bp.get("/<int:contact_id>/timeline")
@bp.arguments(TimelineQuery, location="query")
@bp.response(200, TimelinePage)
def contact_timeline(args: dict[str, Any], contact_id: int):
    """Messages, calls, notes, manual actions and workflow runs, newest first; page with `before`."""
    contact = find_contact(contact_id)
    before = timeline.Cursor.parse(args["before"]) if "before" in args else None
    items, more = timeline.timeline(contact, limit=args["limit"], before=before,
                                    with_logs=g.user.role in EDITORS)  # the execution log is theirs only
    return {"items": items, "next": more.encode() if more else None}


@bp.post("/<int:contact_id>/notes")
@bp.arguments(NoteCreate)
@bp.response(201, TimelineItem)
def add_note(data: dict[str, Any], contact_id: int):
    """Add a note (anyone who may see the contact); answers with its timeline item."""
    note = timeline.add_note(find_contact(contact_id), g.user, data["body"])
    item = timeline.note_item(note, g.user)
    db.session.commit()
    return item
