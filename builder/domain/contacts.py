"""Contacts: the one path that creates, changes and deletes one, with the trigger events each fires.

Every contact, whoever makes it (the API, the inbound-webhook trigger, an SMS from an unknown
number), is created by `create_contact` and so fires "contact created" workflows (and "tag added"
for the tags it starts with). Functions work in the caller's transaction; what must follow the
commit (starting runs, live events) is added to the caller's AfterCommit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update

from builder.domain import access, custom_fields, enrollment, goal_events, handover
from builder.domain.enrollment import tag_events
from builder.domain.errors import Invalid
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Contact, ContactTag, Enrollment, ManualAction, ManualActionStatus, Task, User, utcnow
from engine import goals
from engine.statuses import PAUSED_VALUES
from engine.triggers import CONTACT_CREATED, Event


def create_contact(account_id: int, data: dict[str, Any], after: AfterCommit, *,
                   also: Callable[[Contact], list[Event]] | None = None) -> Contact:
    """A new contact from validated fields (builder.schemas.contacts.ContactFields). It fires
    contact_created, tag_added for its tags, then the events `also` returns for it."""
    contact = Contact(account_id=account_id, custom_fields={})
    apply_changes(contact, data)
    db.session.add(contact)
    db.session.flush()
    events = [Event(CONTACT_CREATED, contact.id, f"contact_created:{contact.id}")]
    events += tag_events(contact.id, added=contact.tags, removed=[])
    events += also(contact) if also else []
    after.started.extend(enrollment.enroll(db.session, account_id, events, loaded=[contact]))
    return contact


def update_contact(contact: Contact, data: dict[str, Any], after: AfterCommit, *,
                   goal_events_later: list[goals.Event] | None = None) -> None:
    """Change some fields (JSON merge-patch, see apply_changes). A new assignee takes over the
    contact's queued manual actions; tags added or removed fire their triggers. The change meets the
    goals of the contact's runs (builder.domain.goal_events) first, so a run it starts is not moved by it;
    a pass (the engine's contact steps) collects the events in `goal_events_later` for its end instead."""
    tags_before, former_assignee = list(contact.tags), contact.assigned_user_id
    apply_changes(contact, data)
    after.updated_actions.update(
        handover.follow_contact(db.session, contact.id, former_assignee, contact.assigned_user_id))
    after.task_events.extend(handover.task_audience_changes(
        db.session, {contact.id: (former_assignee, contact.assigned_user_id)}))
    contact.updated_at = utcnow()  # tags and custom fields alone would not bump it
    folded_before, folded_now = _folded(tags_before), _folded(contact.tags)
    added = [t for t in contact.tags if t.casefold() not in folded_before]
    removed = [t for t in tags_before if t.casefold() not in folded_now]
    changes = goal_events.contact_events(added, removed)
    if goal_events_later is not None:
        goal_events_later.extend(changes)
    else:
        goal_events.meet(db.session, contact.account_id, contact, changes, after)
    events = tag_events(contact.id, added=added, removed=removed)
    after.started.extend(enrollment.enroll(db.session, contact.account_id, events, loaded=[contact]))
    after.contacts.append(contact.id)  # another open page of this contact shows the change


def delete_contact(contact: Contact, after: AfterCommit) -> None:
    """Soft-delete: the contact leaves lists and workflows; its history stays readable.

    Its queued manual actions are deleted, and its waiting or parked runs are woken so the
    engine cancels them and logs that the contact was deleted (active runs see it on their next step).
    """
    now = utcnow()
    contact.deleted_at = contact.updated_at = now
    queued = list(db.session.scalars(select(ManualAction).where(
        ManualAction.contact_id == contact.id, ManualAction.status == ManualActionStatus.QUEUED.value)))
    db.session.execute(update(ManualAction).where(ManualAction.id.in_([a.id for a in queued]))
                       .values(status=ManualActionStatus.DELETED.value, deleted_at=now, updated_at=now))
    paused = db.session.execute(select(Enrollment.id, Enrollment.seq).where(
        Enrollment.contact_id == contact.id, Enrollment.status.in_(PAUSED_VALUES))).all()
    after.resumes.extend((run_id, seq, "contact_deleted") for run_id, seq in paused)
    after.removed_actions.extend(queued)
    # Its tasks leave everyone's lists (a deleted contact's tasks are seen by nobody): tell the open pages.
    after.task_events.extend((task_id, "deleted", None) for task_id in db.session.scalars(
        select(Task.id).where(Task.contact_id == contact.id, Task.deleted_at.is_(None))))


def apply_changes(contact: Contact, data: dict[str, Any]) -> None:
    """Fields left out are kept, `tags` replaces the whole list, `custom_fields` merges key by key
    and a null value removes a key (JSON merge-patch, RFC 7396)."""
    if "assigned_user_id" in data:
        _check_assignee(contact.account_id, data["assigned_user_id"])
    for name, value in data.items():
        if name == "tags":
            _set_tags(contact, value)
        elif name == "custom_fields":
            value = custom_fields.validate_values(contact.account_id, value)
            merged = {**(contact.custom_fields or {}), **value}
            contact.custom_fields = {k: v for k, v in merged.items() if v is not None}
        else:
            setattr(contact, name, value)


def _check_assignee(account_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    found = db.session.scalar(select(User.id).where(
        User.id == user_id, User.account_id == account_id, User.active.is_(True)))
    if found is None:
        raise Invalid.at({"assigned_user_id": [f"User {user_id} is not an active user of your account."]})


def _set_tags(contact: Contact, tags: list[str]) -> None:
    """Tags compare without regard to case: "VIP" and "vip" are one tag, spelled as the contact
    already has it, else as first seen in `tags`."""
    have = {row.tag.casefold(): row.tag for row in contact.tag_rows}
    wanted: dict[str, str] = {}
    for tag in tags:
        wanted.setdefault(tag.casefold(), have.get(tag.casefold(), tag))
    # Keep rows that stay: deleting and re-inserting the same key in one flush can collide. A second
    # spelling of a kept tag (from before tags ignored case) goes.
    for row in [r for r in contact.tag_rows if wanted.get(r.tag.casefold()) != r.tag]:
        contact.tag_rows.remove(row)
    contact.tag_rows.extend(ContactTag(tag=tag) for folded, tag in wanted.items() if folded not in have)


def _folded(tags: list[str]) -> set[str]:
    return {tag.casefold() for tag in tags}


def tag_condition(tag: str) -> ColumnElement[bool]:
    """Contacts with `tag`, in any case (the (lower(tag), contact_id) index answers it)."""
    return Contact.tag_rows.any(func.lower(ContactTag.tag) == func.lower(tag))


def search_conditions(q: str) -> list[ColumnElement[bool]]:
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


def matching(user: User, filters: dict[str, Any]) -> Select:
    """The contacts `user` may see that match the list's filters (q, tag, assigned_user_id, is_test):
    the Contacts list, its CSV export and "select all matching" read the same rows."""
    query = access.visible_contacts(user)
    if filters.get("q"):
        query = query.where(*search_conditions(filters["q"]))
    if "tag" in filters:
        query = query.where(tag_condition(filters["tag"]))  # any case
    if "assigned_user_id" in filters:
        query = query.where(Contact.assigned_user_id == filters["assigned_user_id"])
    if "is_test" in filters:
        query = query.where(Contact.is_test.is_(filters["is_test"]))
    return query
