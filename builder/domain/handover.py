"""A contact's queued manual actions follow the contact when it changes hands.

Manual actions go to the contact's assigned user when they are queued. When the
contact is later given to someone else (an edit, or a workflow's Assign User step),
the actions still held by the former owner go with it: the former owner may no
longer see the contact, so they could not work them, and the new owner would never
hear of them. An action a manager handed to someone else on purpose stays where it
was put. Any claim on a moved action ends, as with any reassignment.

A contact's tasks stay with their assignees, but who may see them changes with the
contact's owner (builder.domain.tasks): `task_audience_changes` names the events that
tell the new owner's and the former owner's open task lists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.models import ManualAction, ManualActionStatus, Task, utcnow

CHUNK = 500  # contacts per query: well inside every database's limit on bound parameters


def follow_contact(session: Session, contact_id: int, former: int | None, new: int | None) -> dict[int, int | None]:
    """Give `new` the contact's queued actions held by `former`; answer {action id: former assignee}.

    Runs in the caller's transaction; publish the moves (AfterCommit.updated_actions) once it has committed.
    """
    return follow_contacts(session, {contact_id: (former, new)})


def follow_contacts(session: Session, moves: dict[int, tuple[int | None, int | None]]) -> dict[int, int | None]:
    """follow_contact for many contacts at once, {contact id: (former, new)}: one query, however many
    moved (a pass of Assign User steps hands over its contacts together when it saves)."""
    moves = {contact_id: (former, new) for contact_id, (former, new) in moves.items() if former != new}
    moved: dict[int, int | None] = {}
    ids = sorted(moves)
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        actions = session.scalars(
            select(ManualAction).where(
                ManualAction.contact_id.in_(ids[start:start + CHUNK]),
                ManualAction.status == ManualActionStatus.QUEUED.value,
            ).with_for_update()
        ).all()
        for action in actions:
            former, new = moves[action.contact_id]
            if action.assignee_id != former:
                continue  # handed to someone on purpose: it stays
            action.assignee_id = new
            action.claimed_by_id = None
            action.claim_expires_at = None
            action.updated_at = now
            moved[action.id] = former
    return moved


def task_audience_changes(session: Session, moves: dict[int, tuple[int | None, int | None]],
                          ) -> list[tuple[int, str, int | None]]:
    """Live task events for contacts that changed hands, {contact id: (former, new)}: each of their tasks
    is "updated" (the new owner now sees it), its former owner named so they hear "deleted" if they no
    longer see it (AfterCommit.task_events)."""
    formers = {contact_id: former for contact_id, (former, new) in moves.items() if former != new}
    ids = sorted(formers)
    events: list[tuple[int, str, int | None]] = []
    for start in range(0, len(ids), CHUNK):
        events.extend((task_id, "updated", formers[contact_id]) for task_id, contact_id in session.execute(
            select(Task.id, Task.contact_id).where(Task.contact_id.in_(ids[start:start + CHUNK]),
                                                   Task.deleted_at.is_(None))))
    return events
