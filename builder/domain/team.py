"""Managing the team (admins): invite, change a role, deactivate and reactivate, reset a password.

There is no email service, so an invite and a password reset both make a temporary password that
the API shows the admin once (only its hash is stored); the admin hands it over and the person
changes it on their profile. Deactivating or resetting a password ends every browser session and
deletes every API token of the person at once. The account always keeps an active admin.
Each change is written to the audit log in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select

from builder.domain import audit
from builder.domain.errors import Conflict, Invalid, NotFound
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import ApiToken, ManualAction, ManualActionStatus, Role, User, UserSession, utcnow


def temporary_password() -> str:
    """A one-time password for an invite or a reset: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def end_logins(user_id: int) -> None:
    """End every browser session and delete every API token of the user (their next request is refused)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


def member(account_id: int, user_id: int) -> User:
    """A user of the account; another account's user is as unknown as a missing one."""
    user = db.session.get(User, user_id)
    if user is None or user.account_id != account_id:
        raise NotFound(f"No user {user_id} in this account.")
    return user


def members(account_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.account_id == account_id).order_by(User.name, User.id)))


def invite(actor: User, *, email: str, role: str, name: str = "", phone: str | None = None) -> tuple[User, str]:
    """A new active user of the actor's account, with a temporary password to hand over once."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Invalid.at({"email": ["Someone already uses this email address."]})
    password = temporary_password()
    user = User(account_id=actor.account_id, email=email, role=role, name=name or email.split("@")[0], phone=phone)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.user_event(actor, audit.USER_CREATED, user, role=role)
    return user, password


def _is_last_admin(user: User) -> bool:
    """Whether the user is the account's only active admin."""
    if user.role != Role.ADMIN or not user.active:
        return False
    others = db.session.scalar(select(func.count(User.id)).where(
        User.account_id == user.account_id, User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id))
    return not others


def change_role(actor: User, user: User, role: str) -> None:
    if role == user.role:
        return
    if _is_last_admin(user):
        raise Conflict("This is the account's last active admin: make someone else an admin first.",
                       {"role": ["The account needs an active admin."]})
    audit.user_event(actor, audit.USER_ROLE_CHANGED, user, before=user.role, after=role)
    user.role = role


def deactivate(actor: User, user: User, after: AfterCommit, *, reassign: bool = False,
               reassign_to: int | None = None) -> int:
    """Deactivate the user: logins end now, their claims are released, and with `reassign` their queued
    actions go to `reassign_to` (None: unassigned). Answers how many actions moved."""
    if user.id == actor.id:
        raise Conflict("You cannot deactivate yourself; ask another admin.")
    if not user.active:
        return 0
    if _is_last_admin(user):
        raise Conflict("This is the account's last active admin: make someone else an admin first.")
    if reassign:
        _check_assignee(user, reassign_to)
    user.active = False
    end_logins(user.id)
    now = utcnow()
    # Claims they held (Let's Start) would keep others away from those actions until the lease ran out.
    for action in db.session.scalars(select(ManualAction).where(
            ManualAction.claimed_by_id == user.id, ManualAction.status == ManualActionStatus.QUEUED.value)):
        action.claimed_by_id, action.claim_expires_at, action.updated_at = None, None, now
        after.updated_actions.setdefault(action.id, None)
    audit.user_event(actor, audit.USER_DEACTIVATED, user)
    return reassign_queued(actor, user, reassign_to, after) if reassign else 0


def reactivate(actor: User, user: User) -> None:
    if user.active:
        return
    user.active = True
    audit.user_event(actor, audit.USER_REACTIVATED, user)


def reset_password(actor: User, user: User) -> str:
    """A new temporary password for the user (answered once); their sessions and tokens end."""
    password = temporary_password()
    user.set_password(password)
    end_logins(user.id)
    audit.user_event(actor, audit.USER_PASSWORD_RESET, user)
    return password


def _check_assignee(user: User, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    if assignee_id == user.id or db.session.scalar(select(User.id).where(
            User.id == assignee_id, User.account_id == user.account_id, User.active.is_(True))) is None:
        raise Invalid.at({"reassign_to": [f"Choose another active user of this account (not {assignee_id})."]})


def reassign_queued(actor: User, user: User, assignee_id: int | None, after: AfterCommit) -> int:
    """Give every queued action held by `user` to `assignee_id` (None: unassigned) in one step; any claim
    on them ends. Live events follow the commit (after.updated_actions). Answers how many moved."""
    _check_assignee(user, assignee_id)
    now = utcnow()
    actions = db.session.scalars(select(ManualAction).where(
        ManualAction.account_id == user.account_id, ManualAction.assignee_id == user.id,
        ManualAction.status == ManualActionStatus.QUEUED.value).with_for_update()).all()
    for action in actions:
        action.assignee_id, action.claimed_by_id, action.claim_expires_at = assignee_id, None, None
        action.updated_at = now
        after.updated_actions[action.id] = user.id
    if actions:
        audit.user_event(actor, audit.USER_ACTIONS_REASSIGNED, user, count=len(actions), to_user_id=assignee_id)
    return len(actions)
