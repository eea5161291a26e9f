"""A contact's queued manual actions follow the contact when it changes hands.

Manual actions go to the contact's assigned user when they are queued. When the
contact is later given to someone else (an edit, or a workflow's Assign User step),
the actions still held by the former owner go with it: the former owner may no
longer see the contact, so they could not work them, and the new owner would never
hear of them. An action a manager handed to someone else on purpose stays where it
was put. Any claim on a moved action ends, as with any reassignment.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.models import ManualAction, ManualActionStatus, utcnow


def follow_contact(session: Session, contact_id: int, former: int | None, new: int | None) -> dict[int, int | None]:
    """Give `new` the contact's queued actions held by `former`; answer {action id: former assignee}.

    Runs in the caller's transaction; publish the moves (live.publish_actions with
    previous_assignees) once it has committed.
    """
    if former == new:
        return {}
    actions = session.scalars(
        select(ManualAction).where(
            ManualAction.contact_id == contact_id,
            ManualAction.status == ManualActionStatus.QUEUED.value,
            ManualAction.assignee_id.is_(None) if former is None else ManualAction.assignee_id == former,
        ).with_for_update()
    ).all()
    now = utcnow()
    for action in actions:
        action.assignee_id = new
        action.claimed_by_id = None
        action.claim_expires_at = None
        action.updated_at = now
    return {action.id: former for action in actions}
