"""Let's Start: who works which manual action right now.

An action is claimed by one person at a time, with a lease: two agents working
the same queue never get the same action, and one who walks away frees theirs
when the lease runs out. Claiming is one transaction: the candidate row is
locked (FOR UPDATE SKIP LOCKED on PostgreSQL, so a second agent takes the next
row instead of waiting; on SQLite transactions already run one at a time),
then marked. A person holds one claim at a time: taking a new one frees the old.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update

from builder.domain.access import visible_actions
from builder.extensions import db
from builder.models import ManualAction, ManualActionStatus, User, utcnow

FILTERS = ("workflow_id", "assignee_id", "contact_id", "type")


def claimable(user: User, now):
    return visible_actions(user).where(
        ManualAction.status == ManualActionStatus.QUEUED,
        or_(ManualAction.claimed_by_id.is_(None), ManualAction.claim_expires_at < now,
            ManualAction.claimed_by_id == user.id),
    )


def claim_next(
    user: User, filters: dict[str, Any], *, lease_seconds: int, action_id: int | None = None,
    exclude_ids: Iterable[int] = (),
) -> ManualAction | None:
    """Claim the oldest queued action matching the filters (or `action_id`), or None."""
    now = utcnow()
    query = claimable(user, now)
    for name in FILTERS:
        if filters.get(name) is not None:
            query = query.where(getattr(ManualAction, name) == filters[name])
    if action_id is not None:
        query = query.where(ManualAction.id == action_id)
    excluded = list(exclude_ids)
    if excluded:
        query = query.where(ManualAction.id.not_in(excluded))
    action = db.session.scalar(
        query.order_by(ManualAction.created_at, ManualAction.id).limit(1)
        .with_for_update(skip_locked=True, of=ManualAction)
    )
    if action is None:
        db.session.rollback()
        return None
    db.session.execute(
        update(ManualAction).where(ManualAction.claimed_by_id == user.id, ManualAction.id != action.id)
        .values(claimed_by_id=None, claim_expires_at=None)
    )
    action.claimed_by_id, action.claim_expires_at = user.id, now + timedelta(seconds=lease_seconds)
    db.session.commit()
    return action


def release(user: User, action_id: int) -> bool:
    """Give back the caller's claim (Skip, Exit)."""
    freed = db.session.execute(
        update(ManualAction).where(ManualAction.id == action_id, ManualAction.claimed_by_id == user.id)
        .values(claimed_by_id=None, claim_expires_at=None)
    ).rowcount
    db.session.commit()
    return bool(freed)
