"""Carry out what a committed transaction asked for: timers, resumes, sends."""

from __future__ import annotations

from builder.store import AfterCommit
from jobqueue import outbox
from jobqueue.queues import enqueue, enqueue_at

RESUME = "jobqueue.jobs.resume_enrollment"


def carry_out(after: AfterCommit) -> None:
    # If the process dies before this runs, the reconciler finds the overdue
    # waits and unsent messages in the database and does it then.
    for enrollment_id, seq, when in after.wakeups:
        enqueue_at(when, RESUME, enrollment_id, seq, "timer")
    for enrollment_id, seq, event in after.resumes:
        enqueue(RESUME, enrollment_id, seq, event)
    if after.messages:
        outbox.deliver([m.id for m in after.messages])
