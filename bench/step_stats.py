#!/usr/bin/env python
"""The builder's step stats at 10 thousand and 10 million execution-log rows: counted from the log
(before, migration 0006's index) against the engine's counters (after, migration 0011), and pruning.

    python bench/step_stats.py [--rows 10000,10000000] [--repeat 30] [--db postgres]
                               [--prune-seconds 60]

For each size it seeds, server-side (INSERT ... SELECT over generate_series on PostgreSQL, a
recursive CTE on SQLite: no Python loops), one 6-step workflow with half of the log rows and 9 other
workflows with the other half, so that an index has to pick the workflow out. A run went through
1 to 6 steps (3.5 log rows on average); runs are spread over 180 days by id: the older half have
ended (1 in 20 failed), the newer ones wait at their last step unless they went through all six.
The counters are backfilled with migration 0011's query. Then, each timed --repeat times (p50, p95):

- before: "passed" counted from the log, COUNT(DISTINCT enrollment_id) GROUP BY step_id, read from
  the covering index ix_execution_logs_step_stats (the query the builder ran until 0011);
- after: "passed" read from step_counts (what builder.domain.workflow_stats.passed_by_step does now),
  and the whole step_stats (with "waiting", which counts open runs and still grows with them);
- one engine pass's log rows (100 rows, one per run) saved: before, a plain insert with the old index;
  after, SqlStore.flush_batched (the first-pass check, the insert, the counter upsert) without it;
- pruning at 90 days' retention: one batch of 5,000 rows (jobqueue.pruning.prune with a zero budget:
  bisecting for the boundary, one delete, one commit), --repeat times; then as many batches as
  --prune-seconds allow, in rows per second. The counts are checked unchanged afterwards.

PostgreSQL gets VACUUM ANALYZE after seeding, as autovacuum would have run by then (index-only scans
need the visibility map). Databases as in engine_throughput.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_throughput import Services, claimed_redis, csv_ints, database_kinds  # noqa: E402
from support import app_on, percentile, service_args  # noqa: E402

STEPS = ["s1", "s2", "s3", "s4", "s5", "s6"]
OTHER_WORKFLOWS = 9
INDEX = "ix_execution_logs_step_stats"  # migration 0006's, dropped by 0011
DAYS = 180  # the seeded runs' span
RETENTION_DAYS = 90
PASSED = "('ok', 'skipped', 'ended')"
# Migration 0011's backfill.
BACKFILL = ("INSERT INTO step_counts (workflow_id, is_test, step_id, passed) "
            "SELECT workflow_id, is_test, step_id, COUNT(DISTINCT enrollment_id) FROM execution_logs "
            f"WHERE outcome IN {PASSED} GROUP BY workflow_id, is_test, step_id")


def graph(name: str) -> dict:
    return {
        "name": name, "trigger": {"type": "manual", "config": {}}, "start": STEPS[0],
        "steps": {sid: {"type": "add_tag", "config": {"tag": sid}, "next": STEPS[i + 1] if i + 1 < len(STEPS) else None}
                  for i, sid in enumerate(STEPS)},
    }


def passed_from_the_log(workflow_id: int, *, test: bool = False) -> dict[str, int]:
    """The old passed_by_step (before migration 0011), kept here for comparison."""
    from builder.domain.step_counts import PASSED_OUTCOMES
    from builder.extensions import db
    from builder.models import ExecutionLog

    rows = db.session.execute(
        select(ExecutionLog.step_id, func.count(func.distinct(ExecutionLog.enrollment_id)))
        .where(ExecutionLog.workflow_id == workflow_id, ExecutionLog.is_test.is_(test),
               ExecutionLog.outcome.in_(PASSED_OUTCOMES))
        .group_by(ExecutionLog.step_id)
    )
    return {step_id: n for step_id, n in rows}


def seed(kind: str, log_rows: int) -> int:
    """About `log_rows` log rows; returns the measured workflow's id."""
    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import Account, utcnow

    account = Account(name="bench", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.commit()
    workflows = [create_workflow(account.id, graph(f"Flow {i}"), publish=True) for i in range(OTHER_WORKFLOWS + 1)]
    db.session.commit()
    runs = max(1, round(log_rows / 3.5))
    # Run n: even ones in the measured workflow, odd ones spread over the others.
    which = " UNION ALL ".join(f"SELECT {k} AS k, {w.id} AS wid, {w.published_version_id} AS vid"
                               for k, w in enumerate(workflows))
    if kind == "postgres":
        series, empty = "generate_series(1, :runs) AS g(n)", "'{}'::json"
        prefix = ""
    else:
        series, empty = "s", "'{}'"
        prefix = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :runs) "
    now = utcnow()
    params = {"runs": runs, "account": account.id, "now": now, "oldest": now - timedelta(days=DAYS)}
    db.session.execute(text(
        f"{prefix}INSERT INTO contacts (id, account_id, first_name, last_name, phone, timezone, custom_fields, "
        "dnd_sms, dnd_call, is_test, created_at, updated_at) "
        f"SELECT n, :account, 'C', 'Bench', '+14155551000', 'UTC', {empty}, false, false, false, :now, :now "
        f"FROM {series}"), params)
    # depth: steps gone through; the older half (by id) have ended, completed or failed (1 in 20).
    # Pseudo-random from n, within 32-bit integers
    # (of n / 2: independent of which workflow n is in).
    runs_sql = (f"SELECT n, 1 + ((n / 2) % 9973 * 7919) % 6 AS depth, ((n / 2) % 9967 * 104729) % 20 = 0 AS failed, "
                "n <= :runs / 2 AS old, "
                f"CASE WHEN n % 2 = 0 THEN 0 ELSE 1 + (n / 2) % {OTHER_WORKFLOWS} END AS k FROM {series}")
    db.session.execute(text(
        f"{prefix}INSERT INTO enrollments (id, account_id, workflow_id, version_id, contact_id, status, current_step, "
        "seq, is_test, source_key, created_at, updated_at, finished_at) "
        "SELECT r.n, :account, m.wid, m.vid, r.n, "
        "  CASE WHEN r.failed THEN 'failed' WHEN r.old OR r.depth = 6 THEN 'completed' ELSE 'waiting' END, "
        "  CASE WHEN r.failed OR r.old OR r.depth = 6 THEN NULL ELSE 's' || r.depth END, "
        "  r.depth, false, 'bench:' || r.n, :now, :now, NULL "
        f"FROM ({runs_sql}) r JOIN ({which}) m ON m.k = r.k"), params)
    steps = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(1, len(STEPS) + 1))
    if kind == "postgres":
        stamp = "CAST(:oldest AS timestamp) + interval '1 second' * (e.id * CAST(:span AS float) / :runs)"
    else:
        stamp = "datetime(:oldest, '+' || (e.id * :span / :runs) || ' seconds')"
    db.session.execute(text(
        "INSERT INTO execution_logs (enrollment_id, workflow_id, version_id, contact_id, step_id, step_type, "
        "idempotency_key, input, outcome, output, is_test, started_at, finished_at, duration_ms) "
        "SELECT e.id, e.workflow_id, e.version_id, e.contact_id, 's' || st.i, 'add_tag', e.id || ':' || (st.i - 1), "
        f"  {empty}, CASE WHEN st.i < e.seq OR e.seq = 6 AND e.status = 'completed' THEN 'ok' "
        "    WHEN e.status = 'failed' THEN 'failed' WHEN e.status = 'completed' THEN 'ended' ELSE 'waiting' END, "
        f"  {empty}, false, {stamp}, {stamp}, 1.0 "
        f"FROM enrollments e JOIN ({steps}) st ON st.i <= e.seq ORDER BY e.id, st.i"),
        {**params, "span": DAYS * 86400})
    db.session.execute(text(BACKFILL))
    if kind == "postgres":  # the ids were given: move the sequences past them
        for table in ("contacts", "enrollments"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    return workflows[0].id


def analyze(kind: str) -> None:
    from builder.database import refresh_statistics
    from builder.extensions import db

    if kind == "sqlite":
        refresh_statistics(db.engine)
    else:
        # VACUUM too, as autovacuum would by now: index-only scans need the visibility map it sets.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """p50 and p95 milliseconds of `fn` (each call ends its transaction, as a request would), and its last result."""
    from builder.extensions import db

    timings, result = [], None
    for _ in range(repeat + 2):  # the first two warm caches and are dropped
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    ms = sorted(timings[2:])
    return statistics.median(ms), percentile(ms, 0.95), result


def pass_rows(workflow_id: int, stamp: str, index: int) -> list[dict[str, Any]]:
    """One engine pass's log rows: a step run for each of 100 waiting runs of the workflow, other runs
    than the previous passes' as far as there are (a run logging again and again would be a loop)."""
    from builder.extensions import db
    from builder.models import Enrollment, utcnow

    waiting = Enrollment.workflow_id == workflow_id, Enrollment.status == "waiting"
    count = db.session.scalar(select(func.count()).where(*waiting))
    runs = db.session.execute(
        select(Enrollment.id, Enrollment.version_id, Enrollment.contact_id, Enrollment.current_step)
        .where(*waiting).order_by(Enrollment.id).offset(index * 100 % max(1, count - 100)).limit(100)
    ).all()
    now = utcnow()
    return [{"enrollment_id": rid, "workflow_id": workflow_id, "version_id": vid, "contact_id": cid,
             "step_id": step or "s1", "step_type": "add_tag", "idempotency_key": f"{stamp}:{rid}", "input": {},
             "outcome": "ok", "output": {}, "error": None, "is_test": False, "started_at": now, "finished_at": now,
             "duration_ms": 1.0} for rid, vid, cid, step in runs]


def time_passes(workflow_id: int, repeat: int, *, counters: bool) -> tuple[float, float]:
    """p50, p95 ms to save one pass's 100 log rows and commit: a plain insert, or the store's flush."""
    from sqlalchemy import insert

    from builder.domain.store import SqlStore
    from builder.extensions import db
    from builder.models import ExecutionLog

    timings = []
    for i in range(repeat + 2):
        rows = pass_rows(workflow_id, f"pass{time.perf_counter_ns()}:{i}", i + (0 if counters else repeat + 2))
        db.session.rollback()
        started = time.perf_counter()
        if counters:
            store = SqlStore(db.session, 0, lambda key: 0)
            for row in rows:
                store.log_step(row)
            store.flush_batched()
        else:
            db.session.execute(insert(ExecutionLog.__table__), rows)
        db.session.commit()
        timings.append((time.perf_counter() - started) * 1000)
    ms = sorted(timings[2:])
    return statistics.median(ms), percentile(ms, 0.95)


def measure(kind: str, services: Services, workdir: Path, log_rows: int, repeat: int, prune_seconds: float) -> str:
    from builder.domain.workflow_stats import passed_by_step, step_stats
    from builder.extensions import db
    from builder.models import ExecutionLog
    from jobqueue import pruning

    with app_on(kind, services, workdir) as app, app.app_context():
        with db.engine.begin() as conn:  # the "before" schema: migration 0006's index
            conn.exec_driver_sql(f"CREATE INDEX {INDEX} ON execution_logs "
                                 "(workflow_id, is_test, outcome, step_id, enrollment_id)")
        started = time.perf_counter()
        workflow_id = seed(kind, log_rows)
        seeded = time.perf_counter() - started
        total = db.session.scalar(select(func.count()).select_from(ExecutionLog))
        mine = db.session.scalar(select(func.count()).where(ExecutionLog.workflow_id == workflow_id))
        db.session.rollback()  # end the read: on SQLite it holds the write lock
        started = time.perf_counter()
        analyze(kind)
        print(f"# {kind}: seeded {total:,} log rows ({mine:,} for the measured workflow) in {seeded:.0f} s, "
              f"analyzed in {time.perf_counter() - started:.0f} s", flush=True)

        old = timed(lambda: passed_from_the_log(workflow_id), repeat)
        new = timed(lambda: passed_by_step(workflow_id), repeat)
        whole = timed(lambda: step_stats(workflow_id, STEPS), repeat)
        assert old[2] == new[2], f"the counters must give the log's answer: {old[2]} != {new[2]}"
        print(f"# passed per step: {new[2]}", flush=True)
        insert_before = time_passes(workflow_id, repeat, counters=False)
        with db.engine.begin() as conn:  # the "after" schema: migration 0011 drops it
            conn.exec_driver_sql(f"DROP INDEX {INDEX}")
        insert_after = time_passes(workflow_id, repeat, counters=True)
        counts = passed_by_step(workflow_id)
        db.session.rollback()

        cutoff_days = {"days": RETENTION_DAYS}
        one_batch = timed(lambda: pruning.prune(**cutoff_days, budget_seconds=0), repeat)
        started = time.perf_counter()
        sustained = pruning.prune(**cutoff_days, budget_seconds=prune_seconds)
        seconds = time.perf_counter() - started
        deleted = sustained.deleted
        assert passed_by_step(workflow_id) == counts, "pruning must not move the counts"
        left = db.session.scalar(select(func.count()).select_from(ExecutionLog))
        db.session.rollback()
        print(f"# pruned {deleted:,} rows in {sustained.batches} batches in {seconds:.1f} s "
              f"({'done' if sustained.done else 'budget spent'}); {left:,} log rows left", flush=True)
        return (f"| {kind} | {total:,} | {mine:,} | {old[0]:.2f} | {old[1]:.2f} | {new[0]:.2f} | {new[1]:.2f} "
                f"| {whole[0]:.1f} | {insert_before[0]:.1f} | {insert_after[0]:.1f} | {one_batch[0]:.0f} "
                f"| {one_batch[1]:.0f} | {f'{deleted / seconds:,.0f}' if deleted else '-'} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=csv_ints, default=[10_000, 10_000_000], help="log rows, comma-separated")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--prune-seconds", type=float, default=60.0, help="the sustained pruning run's budget")
    service_args(parser)
    parser.set_defaults(db="postgres")
    args = parser.parse_args()
    kinds = database_kinds(args)
    with claimed_redis(args.redis, None) as redis_url, tempfile.TemporaryDirectory() as tmp:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        lines = [measure(kind, services, Path(tmp), rows, args.repeat, args.prune_seconds)
                 for kind in kinds for rows in args.rows]
    print("\n| DB | log rows | workflow's | passed from the log p50 ms | p95 | from counters p50 ms | p95 "
          "| whole step_stats p50 ms | a pass's 100 rows saved, before ms | after ms "
          "| a prune batch p50 ms | p95 | pruned rows/s |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
