"""Carry out what a committed transaction asked for: timers, resumes, sends, live events.

Everything here runs after a commit, so nothing here may undo it or hide it: when
Redis is unreachable the enqueues are skipped and logged, and the reconciler
(jobqueue.recovery) finds the work in the database once Redis is back. A web
request therefore still answers its success status, and a worker keeps going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from builder import conversation_live, live, workflow_live
from builder.store import AfterCommit
from jobqueue import job_names, outbox
from jobqueue.queues import enqueue, enqueue_at

log = logging.getLogger(__name__)
RESUME = job_names.RESUME_ENROLLMENT
ADVANCE = job_names.ADVANCE_ENROLLMENTS
# Redis is down or unreachable. Other Redis errors (a bad command, out of memory) are bugs or
# capacity problems that should surface, not be deferred.
REDIS_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


@contextmanager
def deferrable(what: str) -> Iterator[None]:
    """Run a post-commit enqueue; if Redis is unreachable, log what waits for the reconciler and go on."""
    try:
        yield
    except REDIS_DOWN as exc:
        log.warning("Redis is unreachable (%s); deferred to the reconciler: %s", exc, what)


def carry_out(after: AfterCommit) -> None:
    # If the process dies before this runs, or Redis is away, the reconciler finds the
    # overdue waits, active runs and unsent messages in the database and does it then;
    # live clients catch up when they resynchronise.
    _enqueue_all(after)
    if after.manual_actions:
        # Before the sends: a provider on a slow line must not hold up the queues people are watching.
        live.publish_actions(after.manual_actions, "created")
    if after.removed_actions:
        live.publish_actions(after.removed_actions, "deleted")
    if after.handed_over:
        live.publish_action_ids(list(after.handed_over), "updated", previous_assignees=after.handed_over)
    # Test runs step by step and the step counts, for builder pages watching these workflows.
    workflow_live.publish_logged(after.logged)
    if after.contacts:
        conversation_live.publish_contacts(after.contacts)
    if after.messages:
        conversation_live.publish(after.messages, "created")
        # Sending needs no Redis: the outbox claims and sends straight from the database.
        outbox.deliver([m.id for m in after.messages])


def _enqueue_all(after: AfterCommit) -> None:
    """The jobs the commit asked for. After the first sign that Redis is down, the rest are not
    tried (each try could wait for a connect timeout) but named in one warning."""
    calls: list[tuple[str, Callable[[], object]]] = [
        (f"timer of enrollment {eid} (seq {seq})", partial(enqueue_at, when, RESUME, eid, seq, "timer"))
        for eid, seq, when in after.wakeups
    ]
    calls += [(f"resume of enrollment {eid} (seq {seq}, {event})", partial(enqueue, RESUME, eid, seq, event))
              for eid, seq, event in after.resumes]
    if after.started:
        calls.append((f"start of enrollments {_ids(after.started)}", partial(enqueue, ADVANCE, list(after.started))))
    for index, (_, call) in enumerate(calls):
        try:
            call()
        except REDIS_DOWN as exc:
            names = [name for name, _ in calls[index:]]
            more = f"; and {len(names) - 20} more" if len(names) > 20 else ""
            log.warning("Redis is unreachable (%s); deferred to the reconciler: %s%s", exc, "; ".join(names[:20]), more)
            return


def _ids(ids: list[int], shown: int = 20) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
