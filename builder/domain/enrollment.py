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
import threading
import uuid
from collections.abc import Iterable
from functools import cache

from sqlalchemy import bindparam, select
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


class _GraphCache:
    """Published graphs by version. A version is an immutable snapshot (saving makes a new one), so a
    graph read once serves every later event: an event then reads the account's (workflow id, version id)
    pairs, not every published graph's JSON. The key also holds the version's workflow, number and
    creation time, so a version id reused by another database (tests make many) is never mistaken."""

    # Versions kept per process: an account has tens of published workflows, and a big graph (200
    # steps) is a few hundred KB of dicts, so this bounds the memory; past it the cache starts over.
    MAX = 512

    def __init__(self) -> None:
        self._graphs: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def get_many(self, session: Session, keys: list[tuple]) -> dict[tuple, dict]:
        found = {key: graph for key in keys if (graph := self._graphs.get(key)) is not None}
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = dict(session.execute(select(WorkflowVersion.id, WorkflowVersion.graph)
                                          .where(WorkflowVersion.id.in_([key[0] for key in missing]))).all())
            with self._lock:
                if len(self._graphs) + len(missing) > self.MAX:
                    self._graphs.clear()  # rare, and simpler than an LRU: the next events reload what they need
                for key in missing:
                    if key[0] in loaded:
                        self._graphs[key] = found[key] = loaded[key[0]]
        return found


_graphs = _GraphCache()
# What identifies a version in the cache, read with the workflow instead of the graph itself.
VERSION_KEY = (WorkflowVersion.id, WorkflowVersion.workflow_id, WorkflowVersion.number, WorkflowVersion.created_at)
# The statements every event runs, built once: building one (and its cache key) costs about as much
# as running it on SQLite.
_LISTENING = (select(Workflow.id, *VERSION_KEY)
              .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
              .where(Workflow.account_id == bindparam("account_id")))
_TAKEN = select(Enrollment.id).where(
    Enrollment.workflow_id == bindparam("workflow_id"), Enrollment.contact_id == bindparam("contact_id"),
    Enrollment.is_test.is_(False)).limit(1)
_TAKEN_OPEN = _TAKEN.where(Enrollment.status.in_([s.value for s in OPEN_STATUSES]))
_RETURNED = (Enrollment.id, Enrollment.workflow_id, Enrollment.contact_id, Enrollment.source_key)


def listening(session: Session, account_id: int, types: Iterable[str]) -> list[tuple[int, int, dict]]:
    """(workflow id, published version id, graph) of the account's published workflows with these trigger types.

    The graphs are shared with other callers (see _GraphCache): read them, never change them."""
    wanted = set(types)
    rows = session.execute(_LISTENING, {"account_id": account_id}).all()
    keys = [tuple(key) for _, *key in rows]
    graphs = _graphs.get_many(session, keys)
    listeners = []
    for (wid, vid, *_), key in zip(rows, keys, strict=True):
        graph = graphs.get(key)
        if graph is not None and (graph.get("trigger") or {}).get("type") in wanted:
            listeners.append((wid, vid, graph))
    return listeners


def graph_of(session: Session, key: tuple) -> dict | None:
    """The graph of a version read as VERSION_KEY's columns (all None: no version), from the cache when
    it holds it (shared: read only). Lets a caller read the version with its own query's other columns."""
    if key[0] is None:
        return None
    return _graphs.get_many(session, [key]).get(key)


def enroll(session: Session, account_id: int, events: list[Event], *,
           from_workflow_id: int | None = None, loaded: Iterable[Contact] = ()) -> list[int]:
    """Create the enrollments these events call for, in the caller's transaction; returns the new run ids.

    `loaded`: contacts the caller holds in this session; whether they may fire is read from them as they
    stand (the values this transaction will commit), not queried again."""
    if not events:
        return []
    workflows = listening(session, account_id, {e.type for e in events})
    if not workflows:
        return []
    known = {c.id: c for c in loaded}
    contact_ids = {e.contact_id for e in events}
    live_contacts = {cid for cid in contact_ids & known.keys() if _fires(known[cid], account_id)}
    if contact_ids - known.keys():
        live_contacts.update(session.scalars(select(Contact.id).where(
            Contact.id.in_(contact_ids - known.keys()), Contact.account_id == account_id,
            Contact.deleted_at.is_(None), Contact.is_test.is_(False),
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
    inserted = {(wid, cid, key): eid for eid, wid, cid, key in session.execute(_insert_ignore(session), rows)}
    ids = []
    for workflow_id, contact_id, key in keys:
        found = inserted.get((workflow_id, contact_id, key))
        if found is None:  # not inserted: this very event enrolled the contact before (or a race left it out)
            found = session.scalar(select(Enrollment.id).where(
                Enrollment.workflow_id == workflow_id, Enrollment.contact_id == contact_id,
                Enrollment.source_key == key))
        if found is not None:
            ids.append(found)
    log.info("triggers: %s event(s) started %s run(s)", len(events), len(ids))
    return ids


def _fires(contact: Contact, account_id: int) -> bool:
    """The query's rule for a contact already loaded: the account's, not deleted, not a test contact."""
    return contact.account_id == account_id and contact.deleted_at is None and not contact.is_test


def _may_enter(session: Session, workflow_id: int, contact_id: int, graph: dict) -> bool:
    """Not in the workflow now (re-entry allowed), or never before (the default)."""
    taken = _TAKEN_OPEN if (graph.get("settings") or {}).get("allow_reentry") else _TAKEN
    return session.scalar(taken, {"workflow_id": workflow_id, "contact_id": contact_id}) is None


@cache
def _insert_ignoring(dialect: str):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING what was inserted, built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(Enrollment).on_conflict_do_nothing().returning(*_RETURNED)


def _insert_ignore(session: Session):
    return _insert_ignoring(session.get_bind().dialect.name)
