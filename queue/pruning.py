"""Execution-log retention: logs older than EXECUTION_LOG_RETENTION_DAYS are deleted (0 keeps all).

The deletion goes by primary-key range, `BATCH_ROWS` rows per transaction, so it never holds many
locks or a long transaction beside the engine's passes. The logs of runs still open are kept,
however old: a run's log reads whole while it is in flight (the run log view), and the engine's
step counters tell a run's first pass of a step from its earlier log rows
(builder.domain.step_counts). Once a run has ended it never logs again, so its old rows can go;
the counters keep what they counted.

Old rows are found without an index on the time (which every step run would pay for): log ids
grow with time, as rows are inserted when steps run, so the boundary between old and recent is
found by bisecting the primary key. Rows out of order near the boundary are only left for a
later pass: every delete also checks the time itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, func, select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, utcnow
from engine.statuses import OPEN_VALUES
from jobqueue.connection import get_redis

log = logging.getLogger(__name__)
LOCK = "flowdesk:prune:lock"
INTERVAL_SECONDS = 3600  # between passes once caught up
BATCH_ROWS = 5000  # log rows per transaction
BUDGET_SECONDS = 5.0  # per maintenance pass: the worker takes no job meanwhile
JOB_BUDGET_SECONDS = 120.0  # per job: well under the queue's job time-out (jobqueue.queues.JOB_TIMEOUT)

LOGS = ExecutionLog.__table__


@dataclass(frozen=True)
class Pruned:
    deleted: int  # log rows
    batches: int  # transactions
    done: bool  # False: stopped at its time budget with old rows left


def prune(days: int | None = None, *, batch: int | None = None, budget_seconds: float | None = None,
          now: datetime | None = None) -> Pruned:
    """Delete the logs of ended runs finished more than `days` (default: the setting) ago.

    Commits after each batch (default BATCH_ROWS rows); stops early once `budget_seconds` have passed.
    """
    batch = batch or BATCH_ROWS
    if days is None:
        days = int(current_app.config.get("EXECUTION_LOG_RETENTION_DAYS", 90))
    if days <= 0:
        return Pruned(0, 0, True)
    try:
        return _prune(utcnow() if now is None else now, days, batch, budget_seconds)
    except BaseException:
        db.session.rollback()
        raise


def _prune(now: datetime, days: int, batch: int, budget_seconds: float | None) -> Pruned:
    cutoff = now - timedelta(days=days)
    first, last = db.session.execute(select(func.min(LOGS.c.id), func.max(LOGS.c.id))).one()
    if first is None:
        db.session.rollback()
        return Pruned(0, 0, True)
    end = _first_recent_id(cutoff, first, last + 1)
    db.session.rollback()  # end the read before the writes
    started = time.perf_counter()
    deleted = batches = 0
    after = first - 1
    while after < end - 1:
        # Up to `batch` rows by id, kept ones (open runs, out-of-order times) included.
        upto = db.session.scalar(
            select(LOGS.c.id).where(LOGS.c.id > after, LOGS.c.id < end).order_by(LOGS.c.id).offset(batch - 1).limit(1)
        )
        upto = end - 1 if upto is None else upto
        result = db.session.execute(delete(LOGS).where(
            LOGS.c.id > after, LOGS.c.id <= upto, LOGS.c.finished_at < cutoff,
            ~exists().where(Enrollment.id == LOGS.c.enrollment_id, Enrollment.status.in_(OPEN_VALUES)),
        ))
        db.session.commit()
        deleted += result.rowcount or 0
        batches += 1
        after = upto
        if budget_seconds is not None and time.perf_counter() - started > budget_seconds and after < end - 1:
            return Pruned(deleted, batches, False)
    return Pruned(deleted, batches, True)


def prune_once_per(seconds: int, budget_seconds: float = BUDGET_SECONDS) -> Pruned | None:
    """A pass unless another worker ran one in the last `seconds`. A pass cut short by its budget
    gives the lock back, so that the next maintenance pass (of any worker) goes on at once."""
    redis = get_redis()
    if not redis.set(LOCK, "1", nx=True, ex=max(1, seconds)):
        return None
    try:
        pruned = prune(budget_seconds=budget_seconds)
    except BaseException:
        redis.delete(LOCK)  # try again at the next maintenance pass, not in an hour
        raise
    if not pruned.done:
        redis.delete(LOCK)
    if pruned.deleted:
        log.info("pruned %s execution log rows in %s batches%s", pruned.deleted, pruned.batches,
                 "" if pruned.done else " (more to go)")
    return pruned


def _first_recent_id(cutoff: datetime, low: int, high: int) -> int:
    """The id from which on logs finished at or after `cutoff`, within [low, high).

    Bisects the primary key, about log2(rows) index probes: ids below `low` are old, ids from
    `high` on are recent.
    """
    while low < high:
        middle = (low + high) // 2
        row = db.session.execute(
            select(LOGS.c.id, LOGS.c.finished_at).where(LOGS.c.id >= middle).order_by(LOGS.c.id).limit(1)
        ).one_or_none()
        if row is None or row.finished_at >= cutoff:
            high = middle
        else:
            low = row.id + 1
    return low
