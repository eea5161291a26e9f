"""Who may see and do what: the roles and the visibility rules every page, route and socket handler uses."""

from __future__ import annotations

from sqlalchemy import Select, select

from builder.models import Contact, Role, User

# Build, publish and enroll; see and manage every queue and contact of the account.
EDITORS: tuple[str, ...] = (Role.ADMIN.value, Role.MANAGER.value)
# Account settings (Twilio, messaging).
ADMINS: tuple[str, ...] = (Role.ADMIN.value,)


def visible_contacts(user: User) -> Select:
    """The contacts `user` may see: agents those assigned to them, editors every contact of their account."""
    query = select(Contact).where(Contact.account_id == user.account_id, Contact.deleted_at.is_(None))
    if not user.can_see_all:
        query = query.where(Contact.assigned_user_id == user.id)
    return query


def can_see_contact(user: User, contact: Contact | None) -> bool:
    """visible_contacts for one contact already loaded. A deleted contact is seen by nobody."""
    return (contact is not None and contact.deleted_at is None and contact.account_id == user.account_id
            and (user.can_see_all or contact.assigned_user_id == user.id))
