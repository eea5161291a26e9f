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

from redis import RedisError

from builder.domain import workflows
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.live import action_events, conversation_events, emit, notification_events, task_events, workflow_events
from jobqueue import job_names, notification_sms, outbox, passes
from jobqueue.connection import REDIS_DOWN
from jobqueue.queues import enqueue, enqueue_at

log = logging.getLogger(__name__)
RESUME = job_names.RESUME_ENROLLMENT
DELIVER = job_names.DELIVER_MESSAGES


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
    # Resumes first: an enqueue is a fraction of a millisecond, and the run's next step (on the
    # priority queue) should not wait for the live events below. Then the rows people's queues
    # wait for: reading and sending them takes a few ms.
    resumes, others = _resume_calls(after), _other_calls(after)
    redis_up = _enqueue_all(resumes, deferred_too=others)
    if after.manual_actions:
        action_events.publish_actions(after.manual_actions, "created")
    if after.removed_actions:
        action_events.publish_actions(after.removed_actions, "deleted")
    if after.updated_actions:
        action_events.publish_action_ids(list(after.updated_actions), "updated",
                                         previous_assignees=after.updated_actions)
    if redis_up:
        _enqueue_all(others)
    # Test runs step by step and the step counts, for builder pages watching these workflows.
    workflow_events.publish_logged(after.logged)
    _remove_finished_workflows({step.workflow_id for step in after.logged})
    if after.contacts:
        conversation_events.publish_contacts(after.contacts)
    if after.ready_events:
        emit.publish_safely(lambda: after.ready_events, "contact events")
    if after.notifications:
        notification_events.publish_created(after.notifications)
    if after.task_events:
        task_events.publish(after.task_events)
    if after.calls or after.call_checks:  # Call steps: a job places them (the provider may be slow)
        with deferrable(f"calls {_ids(after.calls)}, checks {_ids(after.call_checks)}"):
            if after.calls:
                enqueue(job_names.PLACE_CALLS, after.calls)
            if after.call_checks:
                enqueue(job_names.CHECK_CALLS, after.call_checks)
    if after.emails:  # Send Email steps: a job sends them (an SMTP server may be slow)
        with deferrable(f"emails {_ids(after.emails)}"):
            enqueue(job_names.SEND_EMAILS, after.emails)
    if after.received:
        conversation_events.publish(after.received, "created")
    if after.updated_messages:
        conversation_events.publish(after.updated_messages, "updated")
    if after.messages:
        conversation_events.publish(after.messages, "created")
        # Last, as a provider on a slow line must hold up nothing else. Sending needs no Redis: the
        # outbox claims and sends straight from the database (a scheduled message is not due yet,
        # so the claim leaves it for its job).
        outbox.deliver([m.id for m in after.messages])
    if after.notification_texts:  # the copies to users' own phones, claimed then sent: after the rest, likewise
        notification_sms.deliver(after.notification_texts)


def carry_out_committed(after: AfterCommit) -> None:
    """Enqueue what a committed change asked for. If Redis is away, the change still
    stands: the reconciler finds the paused runs in the database and resumes them."""
    try:
        carry_out(after)
    except RedisError:
        log.exception("could not enqueue follow-up work; the reconciler will pick it up")



def _remove_finished_workflows(workflow_ids: set[int]) -> None:
    """Deleted workflows whose last run has now ended go (see builder.domain.workflows)."""
    if not workflow_ids:
        return
    try:
        removed = workflows.remove_finished(workflow_ids)
    except Exception:
        db.session.rollback()
        log.exception("could not remove deleted workflows whose runs have finished; the next pass tries again")
        return
    if removed:
        log.info("removed deleted workflows %s: their last runs have finished", removed)


Calls = list[tuple[str, Callable[[], object]]]


def _resume_calls(after: AfterCommit) -> Calls:
    return [(f"resume of enrollment {eid} (seq {seq}, {event})", partial(enqueue, RESUME, eid, seq, event))
            for eid, seq, event in after.resumes]


def _other_calls(after: AfterCommit) -> Calls:
    calls: Calls = [
        (f"timer of enrollment {eid} (seq {seq})", partial(enqueue_at, when, RESUME, eid, seq, "timer"))
        for eid, seq, when in after.wakeups
    ]
    calls += [(f"scheduled message {mid} (at {when:%Y-%m-%d %H:%M})", partial(enqueue_at, when, DELIVER, [mid]))
              for mid, when in after.scheduled]
    # New runs and inbound SMS are taken by batched passes (jobqueue.passes): one request covers many.
    if after.inbound_events:
        calls.append((f"inbound events {_ids(after.inbound_events)}", passes.INBOUND_EVENTS.request))
    if after.started:
        calls.append((f"new runs {_ids(after.started)} (the reconciler will start them)", passes.READY_RUNS.request))
    if after.outbound_requests:  # Webhook and Slack steps: a job sends them (a receiver may be slow)
        calls.append((f"outbound requests {_ids(after.outbound_requests)}",
                      partial(enqueue, job_names.SEND_OUTBOUND_REQUESTS, after.outbound_requests)))
    return calls


def _enqueue_all(calls: Calls, deferred_too: Calls | None = None) -> bool:
    """Make the calls; False if Redis was down. After the first sign of that, the rest (and
    `deferred_too`, which the caller then skips) are not tried, since each try could wait for a
    connect timeout, but named in one warning."""
    for index, (_, call) in enumerate(calls):
        try:
            call()
        except REDIS_DOWN as exc:
            names = [name for name, _ in [*calls[index:], *(deferred_too or [])]]
            more = f"; and {len(names) - 20} more" if len(names) > 20 else ""
            log.warning("Redis is unreachable (%s); deferred to the reconciler: %s%s", exc, "; ".join(names[:20]), more)
            return False
    return True


def _ids(ids: list[int], shown: int = 20) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
