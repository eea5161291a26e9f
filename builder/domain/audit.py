"""The audit log: one row per change an admin may need to trace (who, what, when).

`record` adds the row to the caller's transaction, so it commits (or rolls back) with the
change itself; it never commits. Actions are the constants below; `details` holds what the
change was (a role's before and after, the workflow version published), never a secret.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from builder.extensions import db
from builder.models import AuditEvent, User, Workflow

USER_CREATED = "user.created"
USER_ROLE_CHANGED = "user.role_changed"
USER_DEACTIVATED = "user.deactivated"
USER_REACTIVATED = "user.reactivated"
USER_PASSWORD_RESET = "user.password_reset"
USER_ACTIONS_REASSIGNED = "user.actions_reassigned"
TWILIO_SAVED = "settings.twilio_saved"
TWILIO_REMOVED = "settings.twilio_removed"
MESSAGING_SAVED = "settings.messaging_saved"
WORKFLOW_PUBLISHED = "workflow.published"
WORKFLOW_DELETED = "workflow.deleted"


def user_label(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.name else user.email


def record(account_id: int, actor_id: int | None, action: str, *, target_type: str, target_id: int | None = None,
           target_label: str = "", **details: Any) -> AuditEvent:
    """Add an audit row to the current transaction (the caller commits it with the change)."""
    event = AuditEvent(account_id=account_id, actor_id=actor_id, action=action, target_type=target_type,
                       target_id=target_id, target_label=target_label[:300], details=details)
    db.session.add(event)
    return event


def user_event(actor: User, action: str, user: User, **details: Any) -> AuditEvent:
    """A change `actor` made to a member of their team."""
    return record(actor.account_id, actor.id, action, target_type="user", target_id=user.id,
                  target_label=user_label(user), **details)


def settings_event(actor: User, action: str, **details: Any) -> AuditEvent:
    """A change `actor` made to the account's settings."""
    return record(actor.account_id, actor.id, action, target_type="settings", **details)


def workflow_event(actor: User, action: str, workflow: Workflow, **details: Any) -> AuditEvent:
    """A workflow `actor` published or deleted (its name kept as it was then)."""
    return record(actor.account_id, actor.id, action, target_type="workflow", target_id=workflow.id,
                  target_label=workflow.name, **details)


def newest_first(account_id: int) -> Select:
    """The account's audit rows with their actor (None for a change made outside the app), newest first."""
    return (select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.account_id == account_id).order_by(AuditEvent.id.desc()))


def count(account_id: int) -> Select:
    return select(func.count(AuditEvent.id)).where(AuditEvent.account_id == account_id)
