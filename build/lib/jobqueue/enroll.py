"""Enrolling contacts: a request row, then one job per batch (drip-spaced or all at once).

The request and its contact ids live in the database, so a batch job that is
lost (worker killed, Redis restarted) is found and run again by the reconciler;
a batch marks itself done in the same transaction that creates its enrollments.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from builder.extensions import db
from builder.models import (
    OPEN_STATUSES,
    BulkEnrollment,
    BulkEnrollmentBatch,
    Contact,
    Enrollment,
    Workflow,
    WorkflowVersion,
    utcnow,
)
from engine.statuses import RunStatus
from jobqueue import effects, job_names, runner
from jobqueue.queues import enqueue_at, enqueue_many

log = logging.getLogger(__name__)
ENROLL_BATCH = job_names.ENROLL_BATCH
ADVANCE = job_names.ADVANCE_ENROLLMENTS


def source_key(bulk_id: int) -> str:
    return f"bulk:{bulk_id}"


def create_request(
    workflow: Workflow, version: WorkflowVersion, contact_ids: list[int], *, is_test: bool,
    batch_size: int | None = None, interval_seconds: int = 0, user_id: int | None = None,
) -> BulkEnrollment:
    """Store the request and enqueue its batches; the caller has checked permissions."""
    ids = list(dict.fromkeys(contact_ids))  # de-duplicate, keep order
    size = batch_size or current_app.config["ENROLL_CHUNK_SIZE"]
    bulk = BulkEnrollment(
        account_id=workflow.account_id, workflow_id=workflow.id, version_id=version.id, contact_ids=ids,
        is_test=is_test, batch_size=size, interval_seconds=interval_seconds, total=len(ids),
        created_by_id=user_id, finished_at=None if ids else utcnow(),
    )
    db.session.add(bulk)
    db.session.commit()
    # The request is committed: with Redis away it still stands, and the reconciler runs its batches.
    with effects.deferrable(f"the {bulk.batch_count} batch job(s) of enroll request {bulk.id}"):
        schedule_batches(bulk, range(bulk.batch_count))
    # Reading the committed row again opened a transaction; end it now, since on
    # SQLite it would hold the write lock for as long as the caller goes on.
    db.session.commit()
    return bulk


def batch_due_at(bulk: BulkEnrollment, index: int):
    return bulk.created_at + timedelta(seconds=bulk.interval_seconds * index)


def schedule_batches(bulk: BulkEnrollment, indexes) -> None:
    now_calls, later = [], []
    for index in indexes:
        due = batch_due_at(bulk, index)
        (now_calls if due <= utcnow() else later).append((index, due))
    enqueue_many([(ENROLL_BATCH, (bulk.id, index)) for index, _ in now_calls])
    for index, due in later:
        enqueue_at(due, ENROLL_BATCH, bulk.id, index)


def _eligible(bulk: BulkEnrollment, ids: list[int], allow_reentry: bool) -> list[int]:
    found = set(db.session.scalars(select(Contact.id).where(
        Contact.id.in_(ids), Contact.account_id == bulk.account_id, Contact.deleted_at.is_(None)
    )))
    if not bulk.is_test:
        # Nobody is in the same workflow twice at once; without re-entry, only ever once.
        statuses = [s.value for s in OPEN_STATUSES]
        taken = select(Enrollment.contact_id).where(
            Enrollment.workflow_id == bulk.workflow_id, Enrollment.contact_id.in_(found),
            Enrollment.is_test.is_(False),
        )
        if allow_reentry:
            taken = taken.where(Enrollment.status.in_(statuses))
        found -= set(db.session.scalars(taken))
    return [cid for cid in ids if cid in found]


def _insert_ignore(model):
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model).on_conflict_do_nothing()


def _batch_runs(bulk: BulkEnrollment, contact_ids: list[int], status: str | None = None) -> list[int]:
    query = select(Enrollment.id).where(
        Enrollment.source_key == source_key(bulk.id), Enrollment.workflow_id == bulk.workflow_id,
        Enrollment.contact_id.in_(contact_ids),
    )
    if status:
        query = query.where(Enrollment.status == status)
    return list(db.session.scalars(query.order_by(Enrollment.id)))


def create_batch_enrollments(bulk_id: int, index: int) -> list[int]:
    """Create the batch's enrollments once. Returns the ids to advance: all new
    ones, or, when a run of this job already did it, those still active."""
    bulk = db.session.get(BulkEnrollment, bulk_id)
    if bulk is None:
        return []
    ids = bulk.contact_ids[index * bulk.batch_size:(index + 1) * bulk.batch_size]
    if db.session.get(BulkEnrollmentBatch, (bulk_id, index)) is not None:
        return _batch_runs(bulk, ids, status=RunStatus.ACTIVE)
    version = db.session.get(WorkflowVersion, bulk.version_id)
    allow_reentry = bool((version.graph.get("settings") or {}).get("allow_reentry"))
    eligible = _eligible(bulk, ids, allow_reentry)
    start = version.graph.get("start")
    now = utcnow()
    rows = [
        {"account_id": bulk.account_id, "workflow_id": bulk.workflow_id, "version_id": bulk.version_id,
         "contact_id": cid, "status": "active", "current_step": start, "seq": 0, "is_test": bulk.is_test,
         "source_key": source_key(bulk_id), "created_at": now, "updated_at": now}
        for cid in eligible
    ]
    if rows:
        db.session.execute(_insert_ignore(Enrollment), rows)
    # Marking the batch in this transaction is what makes a re-run a no-op.
    db.session.execute(_insert_ignore(BulkEnrollmentBatch), [
        {"bulk_id": bulk_id, "index": index, "enrolled": len(eligible), "skipped": len(ids) - len(eligible),
         "created_at": now}
    ])
    processed = BulkEnrollment.processed + len(ids)
    db.session.execute(update(BulkEnrollment).where(BulkEnrollment.id == bulk_id).values(
        processed=processed,
        enrolled=BulkEnrollment.enrolled + len(eligible),
        skipped=BulkEnrollment.skipped + len(ids) - len(eligible),
        finished_at=case((processed >= BulkEnrollment.total, now), else_=BulkEnrollment.finished_at),
    ))
    if len(ids) != len(eligible):
        log.info("bulk %s batch %s: %s of %s contacts skipped (deleted, other account, or already enrolled)",
                 bulk_id, index, len(ids) - len(eligible), len(ids))
    new_ids = _batch_runs(bulk, eligible) if eligible else []
    db.session.commit()
    return new_ids


def run_batch(bulk_id: int, index: int) -> None:
    try:
        new_ids = create_batch_enrollments(bulk_id, index)
    except BaseException:
        db.session.rollback()
        raise
    if not new_ids:
        return
    size = current_app.config["ENGINE_TXN_SIZE"]
    for start in range(0, len(new_ids), size):
        effects.carry_out(runner.advance(new_ids[start:start + size]))
