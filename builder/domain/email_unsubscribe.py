"""A contact unsubscribing by the link (or the one-click header) in an email: email do-not-disturb goes on,
once, and the conversation says so (a note, beside the emails). Asking again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Contact, Note

NOTE = "Unsubscribed from email by the link in an email: email do-not-disturb is now on."


def find(contact_id: int) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.id == contact_id, Contact.deleted_at.is_(None)))


def unsubscribe(contact: Contact, after: AfterCommit) -> bool:
    """Turn email DND on; False if it was already on (nothing recorded twice)."""
    if contact.dnd_email:
        return False
    contact.dnd_email = True
    db.session.add(Note(contact_id=contact.id, body=NOTE, is_test=contact.is_test))
    after.contacts.append(contact.id)
    return True
