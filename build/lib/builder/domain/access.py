"""Who may see and do what: the roles and the visibility rules every page, route and socket handler uses."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select

from builder.extensions import db
from builder.models import Contact, ManualAction, ManualActionStatus, Role, User

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


def staff_ids(account_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active admins and managers of each account, as the database has them now.

    Live events addressed to "everyone who sees the whole account" go to these people's own rooms, so a role
    change or a deactivation takes effect on the next event, whichever process publishes it."""
    ids = sorted(set(account_ids))
    staff: dict[int, list[int]] = {account_id: [] for account_id in ids}
    if ids:
        for user_id, account_id in db.session.execute(
                select(User.id, User.account_id)
                .where(User.account_id.in_(ids), User.active.is_(True), User.role.in_(EDITORS))
                .order_by(User.id)):
            staff[account_id].append(user_id)
    return staff


def active_ids(account_id: int, user_ids: Iterable[int | None]) -> set[int]:
    """Those of `user_ids` who are active users of the account now."""
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(User.id).where(User.id.in_(ids), User.account_id == account_id,
                                                        User.active.is_(True))))


def account_actions(account_id: int) -> Select:
    """Every manual action of the account that has not been deleted.

    Deleting sets the status to "deleted" (and deleted_at); filtering on the status
    lets a status filter and this one share the (account_id, status, ...) indexes."""
    return select(ManualAction).where(ManualAction.account_id == account_id,
                                      ManualAction.status != ManualActionStatus.DELETED)


def visible_actions(user: User) -> Select:
    """Manual actions the user may see: agents only their own, managers and admins all."""
    query = account_actions(user.account_id)
    if not user.can_see_all:
        query = query.where(ManualAction.assignee_id == user.id)
    return query
