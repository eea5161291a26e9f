"""Load enrollments, let the engine move them, save: one transaction per call."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from builder.domain.store import AfterCommit, SqlStore
from builder.extensions import db
from builder.models import Enrollment, EnrollmentStatus, WorkflowVersion, utcnow
from engine import interpreter
from engine.graph import Graph
from jobqueue.connection import get_redis

log = logging.getLogger(__name__)

# Versions never change once saved, so each is parsed once per process.
_graphs: dict[int, Graph] = {}


def graphs_for(version_ids: Iterable[int]) -> dict[int, Graph]:
    missing = {v for v in version_ids if v not in _graphs}
    if missing:
        for vid, raw in db.session.execute(
            select(WorkflowVersion.id, WorkflowVersion.graph).where(WorkflowVersion.id.in_(missing))
        ):
            _graphs[vid] = Graph.from_dict(raw)
    return _graphs


def rotation_counter(key: str) -> int:
    # Redis INCR: one shared counter per assign step, whichever worker asks.
    return int(get_redis().incr(f"flowdesk:rotation:{key}")) - 1


class Pass:
    """The stores of one transaction, one per account, and what follows its commit."""

    def __init__(self) -> None:
        self.stores: dict[int, SqlStore] = {}

    def store(self, account_id: int) -> SqlStore:
        if account_id not in self.stores:
            store = SqlStore(db.session, account_id, rotation_counter)
            store.phone_region = current_app.config["DEFAULT_PHONE_REGION"]  # as the app reads numbers
            self.stores[account_id] = store
        return self.stores[account_id]

    def commit(self) -> AfterCommit:
        after = AfterCommit()
        # In account order: every pass then locks the shared step counters in one order (no deadlock).
        for _, store in sorted(self.stores.items()):
            store.flush_batched()
            after.extend(store.after_commit)
        db.session.commit()
        return after


def _locked(query):
    # SKIP LOCKED: rows another worker holds are its to move; on SQLite (one writer) a no-op.
    return query.with_for_update(skip_locked=True, of=Enrollment).options(
        joinedload(Enrollment.contact, innerjoin=True)
    )


def advance(enrollment_ids: list[int]) -> AfterCommit:
    """Run the given enrollments that are still active; others are left alone.

    A pass whose transaction cannot be saved (a database error while one run's step
    wrote) is taken again run by run, so one bad run does not hold up the others;
    a run that fails on its own is ended as failed with the error in its log.
    """
    try:
        return _advance(enrollment_ids)
    except SQLAlchemyError as exc:
        if len(enrollment_ids) == 1:
            log.exception("enrollment %s cannot be saved; ending it as failed", enrollment_ids[0])
            return _fail(enrollment_ids[0], f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        log.warning("a pass over %s enrollments failed (%s); retrying them one by one", len(enrollment_ids), exc)
        after = AfterCommit()
        for enrollment_id in enrollment_ids:
            after.extend(advance([enrollment_id]))
        return after


def _fail(enrollment_id: int, reason: str) -> AfterCommit:
    try:
        run = db.session.scalars(
            select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update(of=Enrollment)
        ).one_or_none()
        work = Pass()
        if run is not None:
            interpreter.fail(run, work.store(run.account_id), utcnow(), reason)
            run.updated_at = utcnow()
        return work.commit()
    except BaseException:
        db.session.rollback()
        raise


def _advance(enrollment_ids: list[int]) -> AfterCommit:
    return _advance_runs(select(Enrollment).where(
        Enrollment.id.in_(enrollment_ids), Enrollment.status == EnrollmentStatus.ACTIVE.value
    ))[0]


def _advance_runs(query) -> tuple[AfterCommit, list[int]]:
    """Lock the runs the query selects (skipping those another worker holds), move them, commit."""
    try:
        runs = db.session.scalars(_locked(query)).unique().all()
        work = Pass()
        graphs = graphs_for({r.version_id for r in runs})
        now = utcnow()
        for run in runs:
            store = work.store(run.account_id)
            interpreter.advance(run, graphs[run.version_id], run.contact, store, now)
            store.note_pause(run)
        return work.commit(), [run.id for run in runs]
    except BaseException:
        db.session.rollback()
        raise


def _ready(after_id: int, limit: int):
    # In id order over the partial index ix_enrollments_ready: the pass's cursor only moves forward.
    return (select(Enrollment).where(Enrollment.status == EnrollmentStatus.ACTIVE.value, Enrollment.id > after_id)
            .order_by(Enrollment.id).limit(limit))


def advance_ready(after_id: int, limit: int) -> tuple[AfterCommit, list[int]]:
    """Move up to `limit` runnable runs with ids above `after_id`, in one transaction.

    Returns what follows the commit and the ids taken, in order (the next call goes on from the
    last). A transaction that cannot be saved is taken again run by run.
    """
    try:
        return _advance_runs(_ready(after_id, limit))
    except SQLAlchemyError as exc:
        ids = list(db.session.scalars(_ready(after_id, limit).with_only_columns(Enrollment.id)))
        db.session.rollback()
        if not ids:
            raise
        log.warning("a pass over %s ready runs failed (%s); taking them one by one", len(ids), exc)
        after = AfterCommit()
        for enrollment_id in ids:
            after.extend(advance([enrollment_id]))
        return after, ids


def resume(enrollment_id: int, seq: int, event: str) -> AfterCommit:
    try:
        run = db.session.scalars(
            select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update(of=Enrollment)
            .options(joinedload(Enrollment.contact, innerjoin=True))
        ).unique().one_or_none()
        work = Pass()
        if run is not None:
            store = work.store(run.account_id)
            graph = graphs_for([run.version_id])[run.version_id]
            if interpreter.resume(run, graph, run.contact, store, utcnow(), seq=seq, event=event):
                store.note_pause(run)
            else:
                log.info("resume of enrollment %s at seq %s ignored: it has moved on", enrollment_id, seq)
        return work.commit()
    except BaseException:
        db.session.rollback()
        raise
