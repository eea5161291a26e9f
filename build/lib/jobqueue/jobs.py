"""RQ job functions, enqueued by dotted path. Each is thin: it makes sure an app
context exists (workers run outside any request) and calls the layer below."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from functools import wraps
from typing import Any

from flask import Flask, has_app_context

from builder.live import workflow_events
from jobqueue import (
    effects,
    enroll,
    inbound,
    outbox,
    recovery,
    replies,  # noqa: F401  (importing it registers what an inbound SMS does)
    runner,
)

_app: Flask | None = None


def _context():
    global _app
    if has_app_context():
        return nullcontext()
    if _app is None:
        # Here, not at the top: the app imports the web side, which enqueues these jobs by name;
        # a worker builds it once, when its first job runs outside any app.
        from app import create_app

        _app = create_app()
    return _app.app_context()


def job(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _context():
            return fn(*args, **kwargs)

    return wrapper


@job
def enroll_batch(bulk_id: int, index: int) -> None:
    enroll.run_batch(bulk_id, index)


@job
def advance_enrollments(enrollment_ids: list[int]) -> None:
    effects.carry_out(runner.advance(enrollment_ids))


@job
def resume_enrollment(enrollment_id: int, seq: int, event: str) -> None:
    effects.carry_out(runner.resume(enrollment_id, seq, event))


@job
def deliver_messages(message_ids: list[int]) -> None:
    outbox.deliver(message_ids)


@job
def process_inbound(event_id: int) -> None:
    inbound.process_event(event_id)


@job
def reconcile() -> dict[str, int]:
    return recovery.reconcile()


@job
def publish_workflow_stats(workflow_id: int) -> None:
    """The trailing edge of a builder page's throttled step counts."""
    workflow_events.trailing_publish(workflow_id)


@job
def noop() -> None:
    """The cheapest job there is: the benchmark's ceiling for RQ itself."""
