"""In-app notifications: each user reads and marks only their own.

The engine writes them (the Send Internal Notification action, through the store); the header's bell
reads them over the API and hears of new ones live (builder.live.notification_events). Delivery beyond
the app hangs off the same rows: `AfterCommit.notifications` lists the new ones after each commit, so an
email channel (once an email provider exists) is one more consumer of that list in jobqueue.effects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select, update

from builder.domain.access import can_see_contact
from builder.domain.errors import NotFound
from builder.extensions import db
from builder.models import MAX_ID, Contact, Notification, User, utcnow


def newest_first(user: User, *, unread_only: bool = False) -> Select:
    """`user`'s own notifications (never anyone else's), newest first."""
    query = select(Notification).where(Notification.user_id == user.id, Notification.account_id == user.account_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def count(user: User, *, unread_only: bool = False) -> int:
    query = newest_first(user, unread_only=unread_only).order_by(None)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Unread notifications per user (0 for none), in one query."""
    ids = sorted(set(user_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        for user_id, unread in db.session.execute(
                select(Notification.user_id, func.count())
                .where(Notification.user_id.in_(ids), Notification.read_at.is_(None))
                .group_by(Notification.user_id)):
            counts[user_id] = unread
    return counts


def for_reader(user: User, rows: list[Notification]) -> list[dict[str, Any]]:
    """The rows as `user` may see them: the contact (id and name) only while they may see that contact."""
    contact_ids = {row.contact_id for row in rows if row.contact_id is not None}
    contacts: dict[int, Contact] = {}
    if contact_ids:
        contacts = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
    return [{
        "id": row.id, "title": row.title, "body": row.body, "workflow_id": row.workflow_id, "is_test": row.is_test,
        "created_at": row.created_at, "read_at": row.read_at,
        "contact": _contact_link(user, contacts.get(row.contact_id) if row.contact_id is not None else None),
    } for row in rows]


def _contact_link(user: User, contact: Contact | None) -> dict[str, Any] | None:
    if contact is None or not can_see_contact(user, contact):
        return None
    return {"id": contact.id, "name": contact.name or f"Contact {contact.id}"}


def own(user: User, notification_id: int) -> Notification:
    """One of `user`'s notifications; NotFound for anyone else's, as if it did not exist."""
    row = db.session.get(Notification, notification_id) if 0 < notification_id <= MAX_ID else None
    if row is None or row.user_id != user.id or row.account_id != user.account_id:
        raise NotFound("Notification not found.")
    return row


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read (already read: it keeps its first read time). In the caller's
    transaction."""
    row = own(user, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(user: User) -> int:
    """Mark every unread notification of `user` read; how many were. In the caller's transaction."""
    return db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())).rowcount
