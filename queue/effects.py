"""Carry out what a committed transaction asked for: timers, resumes, sends, live events."""

from __future__ import annotations

from builder import conversation_live, live, workflow_live
from builder.store import AfterCommit
from jobqueue import outbox
from jobqueue.queues import enqueue, enqueue_at

RESUME = "jobqueue.jobs.resume_enrollment"
ADVANCE = "jobqueue.jobs.advance_enrollments"


def carry_out(after: AfterCommit) -> None:
    # If the process dies before this runs, the reconciler finds the overdue
    # waits and unsent messages in the database and does it then; live clients
    # catch up when they resynchronise.
    for enrollment_id, seq, when in after.wakeups:
        enqueue_at(when, RESUME, enrollment_id, seq, "timer")
    for enrollment_id, seq, event in after.resumes:
        enqueue(RESUME, enrollment_id, seq, event)
    if after.started:
        enqueue(ADVANCE, list(after.started))
    if after.manual_actions:
        # Before the sends: a provider on a slow line must not hold up the queues people are watching.
        live.publish_actions(after.manual_actions, "created")
    if after.removed_actions:
        live.publish_actions(after.removed_actions, "deleted")
    # Test runs step by step and the step counts, for builder pages watching these workflows.
    workflow_live.publish_logged(after.logged)
    if after.contacts:
        conversation_live.publish_contacts(after.contacts)
    if after.messages:
        conversation_live.publish(after.messages, "created")
        outbox.deliver([m.id for m in after.messages])
