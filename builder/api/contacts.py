"""Contacts: the people workflows run for.

Admins and managers see and edit every contact of their account. Agents see
only the contacts assigned to them and may edit those, but may not create,
delete or reassign contacts. A contact the caller may not see, or another
account's, is a 404, so ids do not leak.

PATCH follows JSON merge-patch (RFC 7396): fields left out are kept, `tags`
replaces the whole list, `custom_fields` merges key by key and a null value
removes a key.
"""

from __future__ import annotations

import logging
import math
import re
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, g
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy import Select, or_, select, update

from builder import access, action_handover, conversation_live, live, triggers
from builder.access import EDITORS
from builder.api import blueprint, fail
from builder.api.common import (
    MAX_ID,
    DateTime,
    Flag,
    Id,
    PageQuery,
    PageSchema,
    Text,
    at_most_keys,
    carry_out_committed,
    paginate,
)
from builder.auth import require_role
from builder.extensions import db
from builder.models import Contact, ContactTag, Enrollment, EnrollmentStatus, ManualAction, User, utcnow
from builder.phones import normalize_phone
from builder.store import AfterCommit
from builder.triggers import tag_events
from engine.triggers import CONTACT_CREATED, Event

log = logging.getLogger(__name__)
bp = blueprint("api_contacts", "/contacts", description="Contacts")


# --- contact fields ------------------------------------------------------

class Phone(Text):
    def _deserialize(self, value, attr, data, **kwargs) -> str | None:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not raw:
            return None
        try:
            return normalize_phone(raw, current_app.config["DEFAULT_PHONE_REGION"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


SCALAR_TEXT_MAX = 1000


class Scalar(fields.Field):
    """A custom field value: a string, a finite number or a boolean."""

    default_error_messages = {"invalid": "Must be a string, a number or a boolean."}
    _text = Text(validate=validate.Length(max=SCALAR_TEXT_MAX))

    def __init__(self, **kwargs: Any):
        # Documented as what it takes, so that generated clients and fuzzers know.
        kwargs.setdefault("metadata", {}).setdefault("anyOf", [
            {"type": "string", "maxLength": SCALAR_TEXT_MAX}, {"type": "number"}, {"type": "boolean"}])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str | int | float | bool:
        if isinstance(value, bool | int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        if isinstance(value, str):
            return self._text.deserialize(value)
        raise self.make_error("invalid")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _valid_timezone(name: str) -> None:
    if name not in _timezones():
        raise ValidationError("Not a known IANA time zone (e.g. America/New_York, Europe/London, UTC).")


class ContactFields(Schema):
    first_name = Text(validate=validate.Length(max=100))
    last_name = Text(validate=validate.Length(max=100))
    email = Text(allow_none=True, validate=[validate.Length(max=254), validate.Email()])
    phone = Phone(allow_none=True, metadata={"description": "any usual format; stored in E.164"})
    timezone = Text(validate=_valid_timezone, metadata={"description": "IANA name, e.g. America/New_York"})
    tags = fields.List(Text(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=100))
    custom_fields = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=100)), values=Scalar(allow_none=True),
        validate=at_most_keys(100), metadata={"description": "name -> string, number or boolean (null removes it)",
                                              "maxProperties": 100},
    )
    assigned_user_id = Id(allow_none=True)
    dnd_sms = Flag(metadata={"description": "do not text this contact"})
    dnd_call = Flag(metadata={"description": "do not call this contact"})
    is_test = Flag()

    @pre_load
    def blank_is_none(self, data: Any, **kwargs: Any) -> Any:
        # An emptied form field clears an optional value instead of failing validation.
        if isinstance(data, dict) and data.get("email") == "":
            return {**data, "email": None}
        return data


class ContactCreate(ContactFields):
    @validates_schema
    def has_identity(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(name) for name in ("first_name", "last_name", "email", "phone")):
            raise ValidationError("Give the contact a name, an email or a phone number.")


class ContactPatch(ContactFields):
    pass


class ContactSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    timezone = fields.String()
    tags = fields.List(fields.String())
    custom_fields = fields.Dict()
    assigned_user_id = fields.Integer(allow_none=True)
    dnd_sms = fields.Boolean()
    dnd_call = fields.Boolean()
    is_test = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()


class ContactQuery(PageQuery):
    q = Text(validate=validate.Length(max=200), metadata={"description": "words matched in name, email and phone"})
    tag = Text(validate=validate.Length(min=1, max=100))
    assigned_user_id = Id(strict=False)
    is_test = fields.Boolean(metadata={"description": "only test contacts (true) or only real ones (false)"})


class ContactPage(PageSchema):
    items = fields.List(fields.Nested(ContactSchema))


# --- helpers -------------------------------------------------------------

def visible_contacts() -> Select:
    return access.visible_contacts(g.user)


def _contact(contact_id: int) -> Contact:
    contact = db.session.scalar(visible_contacts().where(Contact.id == contact_id)) if contact_id <= MAX_ID else None
    if contact is None:
        fail(404, f"Contact {contact_id} not found.")
    return contact


def _search(q: str) -> list:
    """Every word must match somewhere; a word of digits also matches a phone written differently."""
    conditions = []
    for word in q.split():
        columns = (Contact.first_name, Contact.last_name, Contact.email, Contact.phone)
        matches = [column.icontains(word, autoescape=True) for column in columns]
        digits = re.sub(r"[\s()+.-]", "", word)
        if digits.isdigit():
            matches.append(Contact.phone.contains(digits, autoescape=True))
        conditions.append(or_(*matches))
    return conditions


def _check_assignee(user_id: int | None) -> None:
    if user_id is None:
        return
    found = db.session.scalar(select(User.id).where(
        User.id == user_id, User.account_id == g.user.account_id, User.active.is_(True)
    ))
    if found is None:
        message = f"User {user_id} is not an active user of your account."
        fail(422, f"assigned_user_id: {message}", {"assigned_user_id": [message]})


def _set_tags(contact: Contact, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    # Keep rows that stay: deleting and re-inserting the same key in one flush can collide.
    for row in [r for r in contact.tag_rows if r.tag not in wanted]:
        contact.tag_rows.remove(row)
    have = set(contact.tags)
    contact.tag_rows.extend(ContactTag(tag=tag) for tag in wanted if tag not in have)


def _apply(contact: Contact, data: dict[str, Any]) -> None:
    if "assigned_user_id" in data:
        _check_assignee(data["assigned_user_id"])
    for name, value in data.items():
        if name == "tags":
            _set_tags(contact, value)
        elif name == "custom_fields":
            merged = {**(contact.custom_fields or {}), **value}
            contact.custom_fields = {k: v for k, v in merged.items() if v is not None}
        else:
            setattr(contact, name, value)


# --- routes --------------------------------------------------------------

@bp.get("")
@bp.arguments(ContactQuery, location="query")
@bp.response(200, ContactPage)
def list_contacts(args: dict[str, Any]):
    """Contacts the caller may see, newest first, filtered and paged."""
    query = visible_contacts()
    if args.get("q"):
        query = query.where(*_search(args["q"]))
    if "tag" in args:
        query = query.where(Contact.tag_rows.any(ContactTag.tag == args["tag"]))
    if "assigned_user_id" in args:
        query = query.where(Contact.assigned_user_id == args["assigned_user_id"])
    if "is_test" in args:
        query = query.where(Contact.is_test.is_(args["is_test"]))
    return paginate(query.order_by(Contact.id.desc()), args)


@bp.post("")
@require_role(*EDITORS)
@bp.arguments(ContactCreate)
@bp.response(201, ContactSchema)
def create_contact(data: dict[str, Any]):
    """Create a contact (admins and managers)."""
    contact = Contact(account_id=g.user.account_id, custom_fields={})
    _apply(contact, data)
    db.session.add(contact)
    db.session.flush()
    events = [Event(CONTACT_CREATED, contact.id, f"contact_created:{contact.id}")]
    events += tag_events(contact.id, added=contact.tags, removed=[])
    started = triggers.enroll(db.session, contact.account_id, events)
    db.session.commit()
    triggers.start_runs(started)
    return contact


@bp.get("/<int:contact_id>")
@bp.response(200, ContactSchema)
def get_contact(contact_id: int):
    return _contact(contact_id)


@bp.patch("/<int:contact_id>")
@bp.arguments(ContactPatch)
@bp.response(200, ContactSchema)
def update_contact(data: dict[str, Any], contact_id: int):
    """Change some fields; agents may edit their own contacts but not reassign them."""
    contact = _contact(contact_id)
    if not g.user.can_see_all and data.get("assigned_user_id", contact.assigned_user_id) != contact.assigned_user_id:
        fail(403, "Only admins and managers can reassign contacts.")
    tags_before, former_assignee = list(contact.tags), contact.assigned_user_id
    _apply(contact, data)
    handed_over = action_handover.follow_contact(db.session, contact.id, former_assignee, contact.assigned_user_id)
    contact.updated_at = utcnow()  # tags and custom fields alone would not bump it
    events = tag_events(contact.id, added=[t for t in contact.tags if t not in tags_before],
                        removed=[t for t in tags_before if t not in contact.tags])
    started = triggers.enroll(db.session, contact.account_id, events)
    db.session.commit()
    conversation_live.publish_contacts([contact.id])  # another open page of this contact shows the change
    live.publish_action_ids(list(handed_over), "updated", previous_assignees=handed_over)
    triggers.start_runs(started)
    return contact


@bp.delete("/<int:contact_id>")
@require_role(*EDITORS)
@bp.response(204)
def delete_contact(contact_id: int):
    """Soft-delete: the contact leaves lists and workflows; its history stays readable.

    Its queued manual actions are deleted, and its waiting or parked runs are
    woken so the engine cancels them and logs that the contact was deleted
    (active runs see it on their next step).
    """
    contact = _contact(contact_id)
    now = utcnow()
    contact.deleted_at = contact.updated_at = now
    queued = select(ManualAction.id).where(ManualAction.contact_id == contact.id, ManualAction.status == "queued")
    action_ids = list(db.session.scalars(queued))
    db.session.execute(
        update(ManualAction).where(ManualAction.id.in_(action_ids)).values(status="deleted", deleted_at=now,
                                                                           updated_at=now)
    )
    paused = db.session.execute(select(Enrollment.id, Enrollment.seq).where(
        Enrollment.contact_id == contact.id,
        Enrollment.status.in_([EnrollmentStatus.WAITING.value, EnrollmentStatus.PARKED.value]),
    )).all()
    db.session.commit()
    carry_out_committed(AfterCommit(resumes=[(run_id, seq, "contact_deleted") for run_id, seq in paused]))
    live.publish_actions(db.session.scalars(select(ManualAction).where(ManualAction.id.in_(action_ids))), "deleted")
