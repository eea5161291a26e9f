"""The builder's "passed" counts: distinct runs that passed each step, kept as counters.

The engine's store adds to them in the transaction that inserts the step runs' log rows
(`SqlStore.flush_batched`), so a pass that does not commit (a retried job, a duplicate
idempotency key) adds nothing, and reading them costs the same however long the execution
log is or however much of it was pruned.

A run counts once per step, however often it passes it (a goto loop): a log row adds one only
if no earlier passing row of its run for that step exists, in the database or earlier in the
batch. Earlier rows of a run are always there when it logs again: pruning only removes the
logs of runs that have ended (jobqueue.pruning), and an ended run never logs again. Runs of one
enrollment never log concurrently either: every pass holds its runs' rows FOR UPDATE.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from builder.models import ExecutionLog, StepCount
from engine.registry import Outcome

# The outcomes after which the run went past the step (on, or ended there).
PASSED_OUTCOMES: tuple[str, ...] = (Outcome.OK.value, Outcome.SKIPPED.value, Outcome.ENDED.value)

CountKey = tuple[int, bool, str]  # (workflow id, is test, step id)


def first_passes(session: Session, rows: Sequence[Mapping[str, Any]]) -> Counter[CountKey]:
    """How many runs pass each step for the first time in `rows`, log rows not inserted yet
    (in the order they ran)."""
    passing = [row for row in rows if row["outcome"] in PASSED_OUTCOMES]
    if not passing:
        return Counter()
    # A run whose step run 0 is among the rows (the engine's keys are "<run id>:<seq>") has logged
    # nothing before: new runs, as bulk enrolment passes have, need no look at the log.
    new_runs = {row["enrollment_id"] for row in rows if row["idempotency_key"] == f"{row['enrollment_id']}:0"}
    run_ids = sorted({row["enrollment_id"] for row in passing} - new_runs)
    seen: set[tuple[int, str]] = set()
    if run_ids:
        # Through ix_execution_logs_enrollment: a few rows per run, whatever the log's size.
        seen = {(run_id, step_id) for run_id, step_id in session.execute(
            select(ExecutionLog.enrollment_id, ExecutionLog.step_id).distinct()
            .where(ExecutionLog.enrollment_id.in_(run_ids), ExecutionLog.outcome.in_(PASSED_OUTCOMES))
        )}
    counts: Counter[CountKey] = Counter()
    for row in passing:
        pair = (row["enrollment_id"], row["step_id"])
        if pair not in seen:
            seen.add(pair)
            counts[(row["workflow_id"], bool(row["is_test"]), row["step_id"])] += 1
    return counts


def add(session: Session, counts: Mapping[CountKey, int]) -> None:
    """Add to the counters in one INSERT ... ON CONFLICT DO UPDATE, in key order: two workers
    adding to the same workflow's counters lock their rows in the same order, so never deadlock."""
    rows = [{"workflow_id": wid, "is_test": test, "step_id": sid, "passed": n}
            for (wid, test, sid), n in sorted(counts.items()) if n]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(StepCount).values(rows)
    # passed = passed + n in the database: atomic, whatever other transactions add meanwhile.
    session.execute(stmt.on_conflict_do_update(
        index_elements=[StepCount.workflow_id, StepCount.is_test, StepCount.step_id],
        set_={"passed": StepCount.passed + stmt.excluded.passed},
    ))


def passed_by_step(session: Session, workflow_id: int, *, test: bool = False) -> dict[str, int]:
    rows = session.execute(
        select(StepCount.step_id, StepCount.passed)
        .where(StepCount.workflow_id == workflow_id, StepCount.is_test.is_(test), StepCount.passed > 0)
    )
    return {step_id: passed for step_id, passed in rows}
