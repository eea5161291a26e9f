"""RQ job functions, enqueued by dotted path. Each is thin: it makes sure an app
context exists (jobqueue.job_context) and calls the layer below."""

from __future__ import annotations

from builder.live import workflow_events
from jobqueue import (
    calls,
    contact_import,
    effects,
    email_outbox,
    enroll,
    inbound,
    notification_sms,
    outbound_http,
    outbox,
    pruning,
    ready,
    recovery,
    replies,  # noqa: F401  (importing it registers what an inbound SMS does)
    runner,
)
from jobqueue.job_context import job


@job
def enroll_batch(bulk_id: int, index: int) -> None:
    enroll.run_batch(bulk_id, index)


@job
def advance_enrollments(enrollment_ids: list[int]) -> None:
    effects.carry_out(runner.advance(enrollment_ids))


@job
def advance_ready() -> None:
    """The batched pass over runs that events left ready (jobqueue.ready)."""
    ready.run_pass()


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
def process_inbound_pass() -> None:
    """The batched pass over stored inbound SMS (jobqueue.inbound)."""
    inbound.process_pending()


@job
def reconcile() -> dict[str, int]:
    return recovery.reconcile()


@job
def prune_execution_logs() -> dict[str, int]:
    """A catch-up pass of log retention on demand (workers also prune as a maintenance task)."""
    pruned = pruning.prune(budget_seconds=pruning.JOB_BUDGET_SECONDS)
    return {"deleted": pruned.deleted, "batches": pruned.batches, "done": int(pruned.done)}


@job
def publish_workflow_stats(workflow_id: int) -> None:
    """The trailing edge of a builder page's throttled step counts."""
    workflow_events.trailing_publish(workflow_id)


@job
def import_contacts(import_id: int) -> None:
    """A CSV import of contacts, from its last committed chunk on (jobqueue.contact_import)."""
    contact_import.run(import_id)


@job
def send_outbound_requests(request_ids: list[int]) -> None:
    """Webhook and Slack requests, each sent once per attempt (jobqueue.outbound_http)."""
    outbound_http.send(request_ids)


@job
def deliver_notification_texts(notification_ids: list[int]) -> None:
    """Copies of notifications to users' phones whose send after the commit was lost (the reconciler's)."""
    notification_sms.deliver(notification_ids)


@job
def place_calls(call_ids: list[int]) -> None:
    """Automated calls of Call steps, each placed at most once (jobqueue.calls)."""
    calls.place(call_ids)


@job
def check_calls(call_ids: list[int]) -> None:
    """Automated calls whose outcome did not come in time: ask the provider (jobqueue.calls)."""
    calls.check(call_ids)


@job
def send_emails(email_ids: list[int]) -> None:
    """Emails of Send Email steps, each sent at most once (jobqueue.email_outbox)."""
    email_outbox.deliver(email_ids)


@job
def noop() -> None:
    """The cheapest job there is: the benchmark's ceiling for RQ itself."""
