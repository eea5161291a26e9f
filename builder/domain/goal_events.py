"""Contact events that meet goals: a run jumps to its Goal Event step, a Wait for an event goes on.

Called where the events already happen, in their transaction: a contact's tags or fields change
(builder.domain.contacts, and the engine's own contact steps through SqlStore at the end of their
pass), an SMS reply is recorded (jobqueue.replies), a manual action or a task is completed
(builder.domain.manual_actions, builder.domain.tasks).

Only the contact's open runs are read (one indexed query), and only those whose graph has a goal or
an event wait and that the event meets (engine.goals.reaction, pure) are locked and moved. Locked
FOR UPDATE and judged again as they stand once locked, then moved under the seq they were judged at
(engine.interpreter.jump / resume): a pass holding a run is waited for, a timer or a resume for the
old seq becomes stale, and the same event never moves a run twice. A run that jumps from a parked
manual action takes that action out of the queue (the lists hear `manual_action.deleted`); the
jumped runs are left active for the ready-runs pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from builder.domain.enrollment import VERSION_KEY, graph_of
from builder.domain.store import AfterCommit, SqlStore
from builder.models import Contact, Enrollment, ManualAction, ManualActionStatus, WorkflowVersion, utcnow
from engine import goals, interpreter
from engine.goals import Event
from engine.graph import Graph
from engine.statuses import OPEN_VALUES, RunStatus

log = logging.getLogger(__name__)


class _Parsed:
    """Parsed graphs by version key (builder.domain.enrollment.VERSION_KEY: a version never changes, and
    the key also tells apart versions of other databases that reuse an id). Bounded like that cache."""

    MAX = 512

    def __init__(self) -> None:
        self._graphs: dict[tuple, Graph] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple) -> Graph | None:
        graph = self._graphs.get(key)
        if graph is None:
            raw = graph_of(session, key)
            if raw is None:
                return None
            graph = Graph.from_dict(raw)
            with self._lock:
                if len(self._graphs) >= self.MAX:
                    self._graphs.clear()
                self._graphs[key] = graph
        return graph


_parsed = _Parsed()


def _no_rotation(key: str) -> int:
    # A jump or an event wait's resume runs no step that shares a round-robin counter.
    raise RuntimeError("no round-robin counter outside a pass")


def meet(session: Session, account_id: int, contact: Contact, events: Iterable[Event], after: AfterCommit,
         store: SqlStore | None = None) -> list[int]:
    """Move the contact's open runs that these events meet, in the caller's transaction; returns their ids.

    `store`: the pass's own store when the events come from a pass (its log rows are saved with the
    pass's); otherwise one is made and saved here."""
    events = list(dict.fromkeys(events))  # a pass may change one contact many times
    if not events or contact.deleted_at is not None:
        return []
    rows = session.execute(
        select(Enrollment.id, Enrollment.status, Enrollment.current_step, *VERSION_KEY)
        .join(WorkflowVersion, WorkflowVersion.id == Enrollment.version_id)
        .where(Enrollment.contact_id == contact.id, Enrollment.status.in_(OPEN_VALUES))
    ).all()
    graphs: dict[int, Graph] = {}
    wanted = []
    for run_id, status, step, *key in rows:
        graph = _parsed.get(session, tuple(key))
        if graph is None or not goals.listens(graph):
            continue
        graphs[run_id] = graph
        if any(goals.reaction(graph, status, step, event, contact) for event in events):
            wanted.append(run_id)
    if not wanted:
        return []
    runs = session.scalars(
        select(Enrollment).where(Enrollment.id.in_(wanted)).order_by(Enrollment.id)
        .with_for_update(of=Enrollment).execution_options(populate_existing=True)
    ).all()
    own_store = store is None
    store = store or SqlStore(session, account_id, _no_rotation)
    now = utcnow()
    moved, jumped = [], []
    for run in runs:
        done = _react(run, graphs[run.id], contact, events, store, now)
        if done is None:
            continue
        moved.append(run.id)
        if done == "goal":
            jumped.append(run.id)
        run.updated_at = now
        store.note_pause(run)
        if run.status == RunStatus.ACTIVE:
            after.started.append(run.id)
    _unqueue_parked_actions(session, jumped, after, now)
    if own_store:
        store.flush_batched()
        after.extend(store.after_commit)
    return moved


def _react(run: Enrollment, graph: Graph, contact: Contact, events: list[Event], store: SqlStore,
           now: Any) -> str | None:
    """Judge the locked run again (a pass may have moved it meanwhile) and move it: "goal", "wait" or None."""
    if run.status not in OPEN_VALUES:
        return None
    for event in events:
        reaction = goals.reaction(graph, run.status, run.current_step, event, contact)
        if reaction is None:
            continue
        if reaction.kind == "goal":
            came_from = run.current_step
            if interpreter.jump(run, graph, store, now, seq=run.seq, to_step=reaction.step, event=event.describe()):
                log.info("enrollment %s met its goal %s (%s): jumped from step %s", run.id, reaction.step,
                         event.describe(), came_from)
                return "goal"
            return None
        if interpreter.resume(run, graph, contact, store, now, seq=run.seq, event=goals.EVENT, then_advance=False):
            return "wait"
        return None
    return None


def _unqueue_parked_actions(session: Session, run_ids: list[int], after: AfterCommit, now: Any) -> None:
    """Queued manual actions the jumped runs were parked on leave the queue, as when a run stops on a reply
    (jobqueue.replies): their lists hear manual_action.deleted after the commit."""
    if not run_ids:
        return
    queued = list(session.scalars(select(ManualAction).where(
        ManualAction.enrollment_id.in_(run_ids), ManualAction.parks_enrollment.is_(True),
        ManualAction.status == ManualActionStatus.QUEUED.value)))
    if queued:
        session.execute(update(ManualAction).where(ManualAction.id.in_([a.id for a in queued])).values(
            status=ManualActionStatus.DELETED.value, deleted_at=now, updated_at=now))
        after.removed_actions.extend(queued)


def contact_events(added: Iterable[str] = (), removed: Iterable[str] = ()) -> list[Event]:
    """The events of a change to a contact: its tags added and removed, and a change (field conditions)."""
    return ([Event(goals.TAG_ADDED, tag) for tag in added] + [Event(goals.TAG_REMOVED, tag) for tag in removed]
            + [Event(goals.CONTACT_CHANGED)])
