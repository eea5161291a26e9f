"""Enrolling contacts: a request row, then one job per batch (drip-spaced or all at once).

The request and its contacts live in the database, so a batch job that is
lost (worker killed, Redis restarted) is found and run again by the reconciler;
a batch marks itself done in the same transaction that creates its enrollments.
The contacts are rows (BulkEnrollmentContact) numbered from 0, so a batch reads
only its own slice, and a request by filter is numbered by the database itself:
a million contacts never pass through Python at once, in the web process or a worker.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from rq.job import Job, JobStatus
from sqlalchemy import ColumnElement, Integer, Select, case, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from builder.extensions import db
from builder.models import (
    OPEN_STATUSES,
    BulkEnrollment,
    BulkEnrollmentBatch,
    BulkEnrollmentContact,
    Contact,
    Enrollment,
    Workflow,
    WorkflowVersion,
    utcnow,
)
from engine.statuses import RunStatus
from jobqueue import effects, job_names, runner
from jobqueue.connection import get_redis
from jobqueue.queues import enqueue_at, enqueue_many

log = logging.getLogger(__name__)
ENROLL_BATCH = job_names.ENROLL_BATCH
ADVANCE = job_names.ADVANCE_ENROLLMENTS
INSERT_CHUNK = 5_000  # listed contact ids written per INSERT
# A batch job in these states is still to run: the reconciler leaves it be.
WAITING = frozenset({JobStatus.QUEUED.value, JobStatus.SCHEDULED.value, JobStatus.DEFERRED.value})


@dataclass(frozen=True)
class ContactQuery:
    """Contacts chosen by a query instead of listed: `ids` selects Contact.id, and the database
    numbers the rows in `order_by` order (at most `limit` of them) as it stores them."""

    ids: Select
    order_by: ColumnElement
    limit: int | None = None


def source_key(bulk_id: int) -> str:
    return f"bulk:{bulk_id}"


def create_request(
    workflow: Workflow, version: WorkflowVersion, contacts: Sequence[int] | ContactQuery, *, is_test: bool,
    batch_size: int | None = None, interval_seconds: int = 0, user_id: int | None = None,
) -> BulkEnrollment:
    """Store the request and its contacts, then enqueue its batches; the caller has checked permissions."""
    size = batch_size or current_app.config["ENROLL_CHUNK_SIZE"]
    bulk = BulkEnrollment(
        account_id=workflow.account_id, workflow_id=workflow.id, version_id=version.id,
        is_test=is_test, batch_size=size, interval_seconds=interval_seconds, total=0, created_by_id=user_id,
    )
    db.session.add(bulk)
    db.session.flush()  # the id the contact rows point at
    if isinstance(contacts, ContactQuery):
        _store_query(bulk.id, contacts)
    else:
        _store_ids(bulk.id, contacts)
    # The positions are 0..total-1: the highest is one primary-key lookup, where a count would scan them all.
    last = db.session.scalar(select(func.max(BulkEnrollmentContact.position))
                             .where(BulkEnrollmentContact.bulk_id == bulk.id))
    bulk.total = 0 if last is None else last + 1
    bulk.finished_at = None if bulk.total else utcnow()
    db.session.commit()
    # The request is committed: with Redis away it still stands, and the reconciler runs its batches.
    with effects.deferrable(f"the {bulk.batch_count} batch job(s) of enroll request {bulk.id}"):
        schedule_batches(bulk, range(bulk.batch_count))
    # Reading the committed row again opened a transaction; end it now, since on
    # SQLite it would hold the write lock for as long as the caller goes on.
    db.session.commit()
    return bulk


def _store_ids(bulk_id: int, contact_ids: Sequence[int]) -> None:
    ids = list(dict.fromkeys(contact_ids))  # de-duplicate, keep order
    for start in range(0, len(ids), INSERT_CHUNK):
        db.session.execute(insert(BulkEnrollmentContact), [
            {"bulk_id": bulk_id, "position": start + offset, "contact_id": cid}
            for offset, cid in enumerate(ids[start:start + INSERT_CHUNK])
        ])


def _store_query(bulk_id: int, contacts: ContactQuery) -> None:
    # One INSERT ... SELECT: the ids go from table to table inside the database.
    position = func.row_number().over(order_by=contacts.order_by) - 1
    rows = (contacts.ids.with_only_columns(literal(bulk_id, Integer), position, Contact.id)
            .order_by(contacts.order_by).limit(contacts.limit))
    db.session.execute(insert(BulkEnrollmentContact).from_select(["bulk_id", "position", "contact_id"], rows))


def contact_slice(bulk: BulkEnrollment, index: int) -> list[int]:
    """Batch `index`'s contact ids, in request order: a range of the primary key."""
    first = index * bulk.batch_size
    return list(db.session.scalars(
        select(BulkEnrollmentContact.contact_id).where(
            BulkEnrollmentContact.bulk_id == bulk.id, BulkEnrollmentContact.position >= first,
            BulkEnrollmentContact.position < first + bulk.batch_size,
        ).order_by(BulkEnrollmentContact.position)
    ))


def batch_due_at(bulk: BulkEnrollment, index: int):
    return bulk.created_at + timedelta(seconds=bulk.interval_seconds * index)


def batch_job_id(bulk_id: int, index: int) -> str:
    """The RQ job id of a batch: one per batch (and queue), so that whether it still waits can be looked up."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', current_app.config['RQ_QUEUE'])}-enroll-{bulk_id}-{index}"


def _job_statuses(bulk_id: int, indexes: list[int]) -> dict[int, str | None]:
    """Each batch job's status in Redis (None if Redis has no such job), one pipelined HGET each."""
    if not indexes:
        return {}
    with get_redis().pipeline(transaction=False) as pipe:
        for index in indexes:
            pipe.hget(Job.key_for(batch_job_id(bulk_id, index)), "status")
        found = pipe.execute()
    return {index: status.decode() if isinstance(status, bytes) else status
            for index, status in zip(indexes, found, strict=True)}


def schedule_batches(bulk: BulkEnrollment, indexes: Iterable[int]) -> int:
    """Enqueue these batches (drip-spaced ones at their time), except those whose job still waits.

    The reconciler calls this for every batch not done a grace period after it was due; at a million
    contacts most of the 2,000 batches wait in the queue far longer than that, and re-enqueueing them
    every pass piled up ~100,000 duplicate jobs in Redis. A batch whose job has started is enqueued
    again (its worker may have died): under an id of its own, so the running job's record is left alone.
    Returns how many were enqueued.
    """
    indexes = list(indexes)
    statuses = _job_statuses(bulk.id, indexes)
    now_calls, later = [], []
    for index in indexes:
        if statuses[index] in WAITING:
            continue
        job_id = batch_job_id(bulk.id, index)
        if statuses[index] == JobStatus.STARTED:
            job_id = f"{job_id}-{uuid.uuid4().hex[:8]}"
        due = batch_due_at(bulk, index)
        (now_calls if due <= utcnow() else later).append((index, due, job_id))
    if now_calls:
        enqueue_many([(ENROLL_BATCH, (bulk.id, index)) for index, _, _ in now_calls],
                     job_ids=[job_id for _, _, job_id in now_calls])
    for index, due, job_id in later:
        enqueue_at(due, ENROLL_BATCH, bulk.id, index, job_id=job_id)
    return len(now_calls) + len(later)


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
    ids = contact_slice(bulk, index)
    if db.session.get(BulkEnrollmentBatch, (bulk_id, index)) is not None:
        return _batch_runs(bulk, ids, status=RunStatus.ACTIVE)
    version = db.session.get(WorkflowVersion, bulk.version_id)
    allow_reentry = bool((version.graph.get("settings") or {}).get("allow_reentry"))
    eligible = _eligible(bulk, ids, allow_reentry)
    start = version.graph.get("start")
    now = utcnow()
    # Marking the batch in this transaction is what makes a re-run a no-op. It goes first, as a claim:
    # a second run of this job that got past the check above (the reconciler re-enqueues a batch that
    # is taking long) waits here for the first one's commit (PostgreSQL; SQLite has one writer) and
    # then inserts nothing, so the request's counters below are not added to twice.
    # (RETURNING tells what was inserted: rowcount is -1 here on psycopg.)
    claimed = db.session.execute(_insert_ignore(BulkEnrollmentBatch).values(
        bulk_id=bulk_id, index=index, enrolled=len(eligible), skipped=len(ids) - len(eligible), created_at=now,
    ).returning(BulkEnrollmentBatch.index)).first()
    if claimed is None:
        db.session.rollback()
        return _batch_runs(bulk, ids, status=RunStatus.ACTIVE)
    rows = [
        {"account_id": bulk.account_id, "workflow_id": bulk.workflow_id, "version_id": bulk.version_id,
         "contact_id": cid, "status": "active", "current_step": start, "seq": 0, "is_test": bulk.is_test,
         "source_key": source_key(bulk_id), "created_at": now, "updated_at": now}
        for cid in eligible
    ]
    if rows:
        db.session.execute(_insert_ignore(Enrollment), rows)
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
