"""The RQ queues flowdesk enqueues to, and helpers that enqueue by dotted path.

Two queues, which every worker listens to in this order: `<RQ_QUEUE>.priority` for
the jobs someone is waiting on (a resume after an agent completes an action, the
passes that move runs events started, inbound SMS, sends), and `<RQ_QUEUE>` for
bulk work (enrollment batches, the reconciler's catch-up). A worker busy with a
500-contact batch takes a resume next, not after the thousands of batches queued
behind it. Timers (enqueue_at) wait in the main queue's schedule; when due, a few
seconds either way matter less than the order they fire in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from rq import Queue, Retry

from jobqueue import job_names
from jobqueue.connection import get_redis

# Jobs are thin and idempotent; a retry after a failure is always safe.
RETRY = Retry(max=3, interval=[1, 5, 30])
JOB_TIMEOUT = 600
PRIORITY_JOBS = frozenset({
    job_names.RESUME_ENROLLMENT, job_names.ADVANCE_READY, job_names.PROCESS_INBOUND_PASS,
    job_names.PROCESS_INBOUND, job_names.DELIVER_MESSAGES,
})


def get_queue(*, priority: bool = False) -> Queue:
    name = current_app.config["RQ_QUEUE"]
    return Queue(f"{name}.priority" if priority else name, connection=get_redis(), default_timeout=JOB_TIMEOUT)


def worker_queues() -> list[Queue]:
    """What a worker listens to, first queue first."""
    return [get_queue(priority=True), get_queue()]


def enqueue(func: str, *args: Any, **kwargs: Any):
    return get_queue(priority=func in PRIORITY_JOBS).enqueue(func, *args, retry=RETRY, **kwargs)


def enqueue_at(when: datetime, func: str, *args: Any, **kwargs: Any):
    """`when` is naive UTC, like every time the database stores."""
    return get_queue().enqueue_at(when.replace(tzinfo=UTC), func, *args, retry=RETRY, **kwargs)


def enqueue_many(calls: list[tuple[str, tuple]], job_ids: list[str] | None = None) -> None:
    """Enqueue the calls, each on its queue; `job_ids`, if given, names each call's job."""
    ids = job_ids or [None] * len(calls)
    for priority in (True, False):
        batch = [Queue.prepare_data(func, args=args, job_id=job_id, retry=RETRY)
                 for (func, args), job_id in zip(calls, ids, strict=True) if (func in PRIORITY_JOBS) is priority]
        if batch:
            get_queue(priority=priority).enqueue_many(batch)
