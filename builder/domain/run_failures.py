"""Retrying a failed run from its failed step.

A run that failed keeps its step (`current_step` stays where the failure happened) and its seq, which
only goes up: retrying re-opens the run there, as active, on its own version or the latest published one.
The steps that had succeeded are not repeated (the run goes on from the failed step; their logs and
effects stay), and the retried step runs under a fresh idempotency key (run.id:seq), so it acts again
(a new request, a new text) while nothing before it does. The run is moved by the ready-runs pass
(`AfterCommit.started`), as runs events start are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from builder.domain import audit
from builder.domain.errors import Conflict, Invalid, NotFound, Refused
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Enrollment, User, Workflow, WorkflowVersion, utcnow
from engine.statuses import OPEN_VALUES, RunStatus

VERSIONS = ("own", "latest")
BULK_MAX = 1000  # failed runs one "retry all failed" request re-opens


@dataclass(frozen=True)
class Skipped:
    enrollment_id: int
    reason: str


def _target_version(wf: Workflow, run: Enrollment, version: str) -> WorkflowVersion:
    if version == "own":
        return run.version
    # A test run tries the latest draft, as test runs do; a live run the published version.
    target = wf.latest_version() if run.is_test else wf.published_version
    if target is None:
        raise Conflict("The workflow has no published version to retry the run on; retry it on its own version.")
    return target


def _check(wf: Workflow, run: Enrollment, version: str) -> WorkflowVersion:
    """The version the run would go on in, or Refused saying why it cannot be retried."""
    if run.status != RunStatus.FAILED.value:
        raise Conflict(f"Only a failed run can be retried; run {run.id} is {run.status}.")
    step_id = run.current_step
    if not step_id:
        raise Conflict(f"Run {run.id} has no failed step to retry from.")
    if run.contact.deleted_at is not None:
        raise Conflict(f"Run {run.id} cannot be retried: its contact was deleted.")
    target = _target_version(wf, run, version)
    if step_id not in ((target.graph or {}).get("steps") or {}):
        which = "its own version" if version == "own" else f"the latest version (v{target.number})"
        raise Invalid(f"version: step {step_id!r}, where run {run.id} failed, is not in {which}; "
                      f"retry it on {'the latest version' if version == 'own' else 'its own version'}.",
                      {"version": [f"Step {step_id!r} is not in {which}."]})
    if not run.is_test:  # one open run per contact and workflow (test runs aside, as the index says)
        other = db.session.scalar(select(Enrollment.id).where(
            Enrollment.workflow_id == wf.id, Enrollment.contact_id == run.contact_id, Enrollment.id != run.id,
            Enrollment.is_test.is_(False), Enrollment.status.in_(OPEN_VALUES)).limit(1))
        if other is not None:
            raise Conflict(f"Run {run.id} cannot be retried: its contact has another open run in this workflow "
                           f"(run {other}); end that one first.")
    return target


def _reopen(run: Enrollment, target: WorkflowVersion, after: AfterCommit) -> None:
    run.version_id = target.id
    run.status, run.error, run.finished_at, run.wake_at = RunStatus.ACTIVE.value, None, None, None
    run.updated_at = utcnow()
    after.started.append(run.id)


def _locked_run(wf: Workflow, enrollment_id: int) -> Enrollment | None:
    return db.session.scalars(select(Enrollment).where(
        Enrollment.id == enrollment_id, Enrollment.workflow_id == wf.id).with_for_update(of=Enrollment)).one_or_none()


def retry_run(actor: User, wf: Workflow, enrollment_id: int, version: str, after: AfterCommit) -> Enrollment:
    """Re-open a failed run at its failed step, in the caller's transaction."""
    run = _locked_run(wf, enrollment_id)
    if run is None:
        raise NotFound(f"Run {enrollment_id} not found in this workflow.")
    failed_at, error = run.current_step, run.error
    target = _check(wf, run, version)
    _reopen(run, target, after)
    audit.workflow_event(actor, "workflow.run_retried", wf, enrollment_id=run.id, step_id=failed_at,
                         version_id=target.id, error=(error or "")[:500])
    return run


def retry_failed(actor: User, wf: Workflow, version: str, after: AfterCommit, *,
                 test: bool = False) -> dict[str, Any]:
    """Re-open every failed run of the workflow that can be (live runs, or test runs with `test`); the others
    are listed with the reason."""
    ids = list(db.session.scalars(select(Enrollment.id).where(
        Enrollment.workflow_id == wf.id, Enrollment.status == RunStatus.FAILED.value,
        Enrollment.is_test.is_(test)).order_by(Enrollment.id).limit(BULK_MAX)))
    retried: list[int] = []
    skipped: list[Skipped] = []
    for enrollment_id in ids:
        run = _locked_run(wf, enrollment_id)
        if run is None:
            continue
        try:
            target = _check(wf, run, version)
        except Refused as exc:
            skipped.append(Skipped(enrollment_id, exc.message))
            continue
        _reopen(run, target, after)
        # One open run per contact: a second failed run of the same contact now finds this one open.
        db.session.flush()
        retried.append(enrollment_id)
    if retried:
        audit.workflow_event(actor, "workflow.failed_runs_retried", wf, count=len(retried), version=version)
    return {"retried": retried, "skipped": [{"enrollment_id": s.enrollment_id, "reason": s.reason}
                                            for s in skipped]}
