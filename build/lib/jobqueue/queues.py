"""The RQ queue flowdesk enqueues to, and helpers that enqueue by dotted path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from rq import Queue, Retry

from jobqueue.connection import get_redis

# Jobs are thin and idempotent; a retry after a failure is always safe.
RETRY = Retry(max=3, interval=[1, 5, 30])
JOB_TIMEOUT = 600


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis(), default_timeout=JOB_TIMEOUT)


def enqueue(func: str, *args: Any, **kwargs: Any):
    return get_queue().enqueue(func, *args, retry=RETRY, **kwargs)


def enqueue_at(when: datetime, func: str, *args: Any, **kwargs: Any):
    """`when` is naive UTC, like every time the database stores."""
    return get_queue().enqueue_at(when.replace(tzinfo=UTC), func, *args, retry=RETRY, **kwargs)


def enqueue_many(calls: list[tuple[str, tuple]]) -> None:
    queue = get_queue()
    queue.enqueue_many([Queue.prepare_data(func, args=args, retry=RETRY) for func, args in calls])
