"""Live events for the builder page, in rooms `workflow:<id>:user:<uid>` (joined with `workflow.watch`,
see builder.live.sockets). Each event is addressed when it is published to the workflow account's admins and
managers as the database has them then, so a demoted or deactivated user's open builder hears nothing more.

- `workflow.execution`: one execution-log row of a test run, shaped as GET /executions rows, as soon
  as the pass that wrote it commits: the canvas lights the steps up as the test run goes.
- `workflow.stats`: {"workflow_id", "steps": {step id: {"waiting", "passed"}}} as GET /stats (live
  runs), at most about once a second per workflow, whichever process changed the counts: the first
  change publishes at once, later ones within the second are folded into one trailing publish
  (an RQ job a second later), so the last state always arrives.

Called after a pass commits (jobqueue.effects.carry_out), in workers and web processes alike. Emits
go through builder.live.emit like every live event; like them, publishing is best effort and
never raises into the caller: the builder refetches over REST when it reconnects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from builder.domain.access import staff_ids
from builder.domain.store import LoggedStep
from builder.domain.workflow_stats import step_stats
from builder.extensions import db
from builder.live import emit
from builder.models import ExecutionLog, Workflow, WorkflowVersion, utcnow
from builder.schemas.workflows import ExecutionSchema
from jobqueue import job_names
from jobqueue.connection import get_redis
from jobqueue.queues import enqueue_at

log = logging.getLogger(__name__)

EXECUTION_EVENT = "workflow.execution"
STATS_EVENT = "workflow.stats"
STATS_INTERVAL_MS = 1000  # the default; WORKFLOW_STATS_INTERVAL_MS in the app's config overrides it
# Set while a trailing publish is scheduled; expires by itself should its job be lost.
PENDING_TTL_MS = 10_000


def room(workflow_id: int, user_id: int) -> str:
    """One person's builder pages for one workflow."""
    return f"workflow:{workflow_id}:user:{user_id}"


def _audience(workflow_ids: set[int]) -> dict[int, list[str]]:
    """Workflow id -> the rooms of its account's active admins and managers, read now."""
    accounts = {workflow_id: account_id for workflow_id, account_id in db.session.execute(
        select(Workflow.id, Workflow.account_id).where(Workflow.id.in_(workflow_ids)))}
    staff = staff_ids(accounts.values())
    return {workflow_id: [room(workflow_id, user_id) for user_id in staff[account_id]]
            for workflow_id, account_id in accounts.items()}


def publish_logged(logged: Iterable[LoggedStep]) -> None:
    """After a pass commits: its test runs' log rows and the stats of workflows whose live runs moved."""
    logged = list(logged)
    if not logged:
        return
    test_keys = [step.idempotency_key for step in logged if step.is_test]
    if test_keys:
        emit.publish_safely(lambda: _execution_messages(test_keys), "builder events")
    for workflow_id in sorted({step.workflow_id for step in logged if not step.is_test}):
        publish_stats(workflow_id)


def publish_stats(workflow_id: int) -> None:
    """Publish the workflow's stats now, or fold them into the trailing publish (see the docstring)."""
    try:
        redis = get_redis()
        interval = _interval_ms()
        if not redis.set(_throttle_key(workflow_id), 1, nx=True, px=interval):
            if redis.set(_pending_key(workflow_id), 1, nx=True, px=interval + PENDING_TTL_MS):
                enqueue_at(utcnow() + timedelta(milliseconds=interval), job_names.PUBLISH_WORKFLOW_STATS, workflow_id)
            return
    except Exception:
        log.exception("could not throttle workflow stats; publishing them now")
    emit.publish_safely(lambda: _stats_messages(workflow_id), "builder events")


def trailing_publish(workflow_id: int) -> None:
    """The throttled publish's trailing edge (job_names.PUBLISH_WORKFLOW_STATS)."""
    redis = get_redis()
    # Cleared before reading: a change committed after the read schedules the next trailing publish.
    redis.delete(_pending_key(workflow_id))
    redis.set(_throttle_key(workflow_id), 1, px=_interval_ms())
    emit.publish_safely(lambda: _stats_messages(workflow_id), "builder events")


def _interval_ms() -> int:
    return int(current_app.config.get("WORKFLOW_STATS_INTERVAL_MS", STATS_INTERVAL_MS))


def _throttle_key(workflow_id: int) -> str:
    return f"flowdesk:workflow-stats:{workflow_id}:sent"


def _pending_key(workflow_id: int) -> str:
    return f"flowdesk:workflow-stats:{workflow_id}:pending"


# --- what to send ------------------------------------------------------------------

def _execution_messages(keys: list[str]) -> list[emit.Emit]:
    rows = db.session.scalars(
        select(ExecutionLog).where(ExecutionLog.idempotency_key.in_(keys)).order_by(ExecutionLog.id)
    ).all()
    schema = ExecutionSchema()
    rooms = _audience({row.workflow_id for row in rows})
    return [(EXECUTION_EVENT, schema.dump(row), rooms.get(row.workflow_id, [])) for row in rows]


def _stats_messages(workflow_id: int) -> list[emit.Emit]:
    latest = db.session.scalar(select(WorkflowVersion.graph).where(WorkflowVersion.workflow_id == workflow_id)
                               .order_by(WorkflowVersion.number.desc()).limit(1))
    if latest is None:
        return []  # the workflow is gone
    stats = step_stats(workflow_id, latest.get("steps") or {})
    return [(STATS_EVENT, {"workflow_id": workflow_id, **stats}, _audience({workflow_id}).get(workflow_id, []))]
