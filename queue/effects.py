"""Carry out what a committed transaction asked for: timers, resumes, sends, live events."""

from __future__ import annotations

from builder import live
from builder.store import AfterCommit
from jobqueue import outbox
from jobqueue.queues import enqueue, enqueue_at

RESUME = "jobqueue.jobs.resume_enrollment"


def carry_out(after: AfterCommit) -> None:
    # If the process dies before this runs, the reconciler finds the overdue
    # waits and unsent messages in the database and does it then; live clients
    # catch up when they resynchronise.
    for enrollment_id, seq, when in after.wakeups:
        enqueue_at(when, RESUME, enrollment_id, seq, "timer")
    for enrollment_id, seq, event in after.resumes:
        enqueue(RESUME, enrollment_id, seq, event)
    if after.manual_actions:
        # Before the sends: a provider on a slow line must not hold up the queues people are watching.
        live.publish_actions(after.manual_actions, "created")
    if after.messages:
        outbox.deliver([m.id for m in after.messages])
