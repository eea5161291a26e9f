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

A Split step also counts, per path, the runs that passed it on that path: counter rows keyed by
`path_key(step id, path index)`, which holds a "/" that step ids never do, so they never mix with a
step's own row and `passed_by_step` leaves them out.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from builder.models import ExecutionLog, StepCount
from engine.actions.split import MAX_PATHS, Split
from engine.registry import Outcome

# The outcomes after which the run went past the step (on, or ended there).
PASSED_OUTCOMES: tuple[str, ...] = (Outcome.OK.value, Outcome.SKIPPED.value, Outcome.ENDED.value)

CountKey = tuple[int, bool, str]  # (workflow id, is test, step id or path key)
PATH_SEP = "/"  # never in a step id (engine.graph.STEP_ID)
KEY_LENGTH = 64  # StepCount.step_id


def path_key(step_id: str, index: int) -> str:
    """The counter key of a Split step's path; a step id too long to fit is replaced by its hash."""
    key = f"{step_id}{PATH_SEP}{index}"
    if len(key) <= KEY_LENGTH:
        return key
    return f"{hashlib.sha256(step_id.encode()).hexdigest()[:KEY_LENGTH - 3]}{PATH_SEP}{index}"


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
            index = (row.get("output") or {}).get("index") if row.get("step_type") == Split.type else None
            if isinstance(index, int):
                counts[(row["workflow_id"], bool(row["is_test"]), path_key(row["step_id"], index))] += 1
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
        .where(StepCount.workflow_id == workflow_id, StepCount.is_test.is_(test), StepCount.passed > 0,
               StepCount.step_id.not_like(f"%{PATH_SEP}%"))
    )
    return {step_id: passed for step_id, passed in rows}


def passed_by_path(session: Session, workflow_id: int, step_ids: Iterable[str], *,
                   test: bool = False) -> dict[str, dict[str, int]]:
    """{step id: {path index: runs that passed it on that path}} for the Split steps among `step_ids`
    that have counts."""
    rows: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
        select(StepCount.step_id, StepCount.passed)
        .where(StepCount.workflow_id == workflow_id, StepCount.is_test.is_(test), StepCount.passed > 0,
               StepCount.step_id.like(f"%{PATH_SEP}%"))
    ).all())
    out: dict[str, dict[str, int]] = {}
    for step_id in step_ids:
        keys = {str(i): path_key(step_id, i) for i in range(MAX_PATHS)}
        paths = {index: rows[key] for index, key in keys.items() if key in rows}
        if paths:
            out[step_id] = paths
    return out
