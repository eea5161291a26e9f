"""Triggers: an event on a contact enrolls it in every published workflow that listens for it.

The enrollments are written in the caller's transaction, so a change and the runs
it starts commit together or not at all. After the commit the caller hands the
new run ids to the after-commit work (`AfterCommit.started`); if that enqueue is lost (Redis down, process killed),
the reconciler finds them as stale active runs and starts them then.

Rules: only published versions fire (drafts run only as test runs); test contacts
and deleted contacts never fire live workflows; a workflow's re-entry setting
decides whether a contact who has been through it may enter again; a contact is
never in one workflow twice at once (the partial unique index settles races); and
a workflow's own steps do not enroll the contact in that same workflow again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from builder.models import OPEN_STATUSES, Contact, Enrollment, Workflow, WorkflowVersion, utcnow
from engine.triggers import TAG_ADDED, TAG_REMOVED, Event, matches

log = logging.getLogger(__name__)


def source_key(event: Event) -> str:
    return f"trigger:{event.key}"[:80]


def tag_events(contact_id: int, *, added: Iterable[str], removed: Iterable[str]) -> list[Event]:
    """One event per tag change; each occurrence is its own (a tag removed and added again fires again)."""
    return [Event(kind, contact_id, f"{kind}:{contact_id}:{uuid.uuid4().hex}", tag=tag)
            for kind, tags in ((TAG_ADDED, added), (TAG_REMOVED, removed)) for tag in tags]


def listening(session: Session, account_id: int, types: Iterable[str]) -> list[tuple[int, int, dict]]:
    """(workflow id, published version id, graph) of the account's published workflows with these trigger types."""
    wanted = set(types)
    rows = session.execute(
        select(Workflow.id, WorkflowVersion.id, WorkflowVersion.graph)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.account_id == account_id)
    ).all()
    return [(wid, vid, graph) for wid, vid, graph in rows if (graph.get("trigger") or {}).get("type") in wanted]


def enroll(session: Session, account_id: int, events: list[Event], *,
           from_workflow_id: int | None = None) -> list[int]:
    """Create the enrollments these events call for, in the caller's transaction; returns the new run ids."""
    if not events:
        return []
    workflows = listening(session, account_id, {e.type for e in events})
    if not workflows:
        return []
    contact_ids = {e.contact_id for e in events}
    live_contacts = set(session.scalars(select(Contact.id).where(
        Contact.id.in_(contact_ids), Contact.account_id == account_id, Contact.deleted_at.is_(None),
        Contact.is_test.is_(False),
    )))
    now = utcnow()
    rows, keys = [], []
    for event in events:
        if event.contact_id not in live_contacts:
            continue
        for workflow_id, version_id, graph in workflows:
            if workflow_id == from_workflow_id or (event.workflow_id not in (None, workflow_id)):
                continue
            if not matches(graph.get("trigger") or {}, event):
                continue
            if not _may_enter(session, workflow_id, event.contact_id, graph):
                continue
            key = source_key(event)
            rows.append({
                "account_id": account_id, "workflow_id": workflow_id, "version_id": version_id,
                "contact_id": event.contact_id, "status": "active", "current_step": graph.get("start"), "seq": 0,
                "is_test": False, "source_key": key, "created_at": now, "updated_at": now,
            })
            keys.append((workflow_id, event.contact_id, key))
    if not rows:
        return []
    session.execute(_insert_ignore(session), rows)
    ids = []
    for workflow_id, contact_id, key in keys:
        found = session.scalar(select(Enrollment.id).where(
            Enrollment.workflow_id == workflow_id, Enrollment.contact_id == contact_id, Enrollment.source_key == key))
        if found is not None:
            ids.append(found)
    log.info("triggers: %s event(s) started %s run(s)", len(events), len(ids))
    return ids


def _may_enter(session: Session, workflow_id: int, contact_id: int, graph: dict) -> bool:
    taken = select(Enrollment.id).where(
        Enrollment.workflow_id == workflow_id, Enrollment.contact_id == contact_id, Enrollment.is_test.is_(False))
    if (graph.get("settings") or {}).get("allow_reentry"):
        taken = taken.where(Enrollment.status.in_([s.value for s in OPEN_STATUSES]))
    return session.scalar(taken.limit(1)) is None


def _insert_ignore(session: Session):
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(Enrollment).on_conflict_do_nothing()
