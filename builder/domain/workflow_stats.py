"""How many contacts are where in a workflow, read from the enrollments and the step counters.

- waiting at a step: open runs paused there (a wait's timer, or a person: a manual step);
- passed a step: distinct runs that went through it (the step ran and the run moved on or ended
  there), counted by the engine as it logs (builder.domain.step_counts). A run paused at a step is
  waiting, not passed, until it resumes; a run that failed or was cancelled at a step did not pass it.

Test runs are counted apart from live ones, never together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from builder.domain import step_counts
from builder.extensions import db
from builder.models import Enrollment, EnrollmentStatus
from engine.statuses import OPEN_VALUES, PAUSED_VALUES

OPEN = list(OPEN_VALUES)
PAUSED = list(PAUSED_VALUES)


def waiting_by_step(workflow_id: int, *, test: bool = False) -> dict[str, int]:
    rows = db.session.execute(
        select(Enrollment.current_step, func.count())
        .where(Enrollment.workflow_id == workflow_id, Enrollment.is_test.is_(test), Enrollment.status.in_(PAUSED))
        .group_by(Enrollment.current_step)
    )
    return {step_id: n for step_id, n in rows if step_id is not None}


def passed_by_step(workflow_id: int, *, test: bool = False) -> dict[str, int]:
    # From the counters the engine keeps (builder.domain.step_counts), not the log: the same cost
    # at any log size, and right after old logs are pruned.
    return step_counts.passed_by_step(db.session, workflow_id, test=test)


def step_stats(workflow_id: int, step_ids: Iterable[str] = (), *, test: bool = False) -> dict[str, Any]:
    """{"steps": {step id: {"waiting": n, "passed": n}}} for `step_ids` (zeros included) and any step
    that has counts (a step an earlier version had still shows its waiting contacts). A Split step
    that runs passed also has "paths": {path index: n}."""
    waiting = waiting_by_step(workflow_id, test=test)
    passed = passed_by_step(workflow_id, test=test)
    ids = list(dict.fromkeys([*step_ids, *waiting, *passed]))
    paths = step_counts.passed_by_path(db.session, workflow_id, ids, test=test)
    return {"steps": {sid: {"waiting": waiting.get(sid, 0), "passed": passed.get(sid, 0),
                            **({"paths": paths[sid]} if sid in paths else {})} for sid in ids}}


def run_counts(workflow_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Live runs per workflow: active (every open run), waiting (those paused at a wait or a person),
    completed, failed (ended by a failure, until retried)."""
    ids = list(workflow_ids)
    counts = {wid: {"active": 0, "waiting": 0, "completed": 0, "failed": 0} for wid in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(Enrollment.workflow_id, Enrollment.status, func.count())
        .where(Enrollment.workflow_id.in_(ids), Enrollment.is_test.is_(False))
        .group_by(Enrollment.workflow_id, Enrollment.status)
    )
    for wid, status, n in rows:
        if status in OPEN:
            counts[wid]["active"] += n
        if status in PAUSED:
            counts[wid]["waiting"] += n
        if status == EnrollmentStatus.COMPLETED.value:
            counts[wid]["completed"] += n
        if status == EnrollmentStatus.FAILED.value:
            counts[wid]["failed"] += n
    return counts


def open_runs(workflow_id: int, *, test: bool | None = False) -> int:
    """Open runs of the workflow: live ones, test ones, or (test=None) all."""
    query = select(func.count()).where(Enrollment.workflow_id == workflow_id, Enrollment.status.in_(OPEN))
    if test is not None:
        query = query.where(Enrollment.is_test.is_(test))
    return db.session.scalar(query) or 0
