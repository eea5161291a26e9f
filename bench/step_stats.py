#!/usr/bin/env python
"""The builder's live step stats on a big execution log, with and without a covering index.

    python bench/step_stats.py [--runs 100000] [--repeat 30] [--db sqlite,postgres]

Seeds one workflow of 6 steps whose --runs runs went through 1 to 6 steps each
(about 3.5 log rows a run: most runs are waiting at a step, 1 in 6 completed, 5% failed), beside 9 other
workflows with as many rows again between them, so the index has to pick the
workflow out. Then times builder.domain.workflow_stats.step_stats (what
GET /api/workflows/<id>/stats and the live `workflow.stats` event send) --repeat
times, p50 and p95, first without the index made for it, then with it:

    ix_execution_logs_step_stats (workflow_id, is_test, outcome, step_id, enrollment_id)

which answers "distinct runs per step" from the index alone. It also times
inserting 10,000 more log rows without and with it: the cost every step run pays.
Databases as in engine_throughput.py.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_throughput import Services, claimed_redis, ensure_pg_database  # noqa: E402
from support import app_on, percentile, service_args  # noqa: E402

STEPS = ["s1", "s2", "s3", "s4", "s5", "s6"]
OTHER_WORKFLOWS = 9
INDEX = "ix_execution_logs_step_stats"  # the model's: dropped for the "before" figures


def graph(name: str) -> dict:
    ids = STEPS
    return {
        "name": name, "trigger": {"type": "manual", "config": {}}, "start": ids[0],
        "steps": {sid: {"type": "add_tag", "config": {"tag": sid}, "next": ids[i + 1] if i + 1 < len(ids) else None}
                  for i, sid in enumerate(ids)},
    }


def seed(runs: int) -> int:
    """The measured workflow's id. Each workflow's runs have contacts of their own: open runs must be unique."""
    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import Account, Contact, Enrollment, ExecutionLog, utcnow

    rng = random.Random(11)
    account = Account(name="bench", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.commit()
    db.session.execute(Contact.__table__.insert(), [
        {"account_id": account.id, "first_name": f"C{i}", "last_name": "Bench", "phone": "+14155551000",
         "timezone": "UTC", "custom_fields": {}, "dnd_sms": False, "dnd_call": False, "is_test": False}
        for i in range(runs)])
    workflows = [create_workflow(account.id, graph(f"Flow {i}"), publish=True) for i in range(OTHER_WORKFLOWS + 1)]
    db.session.commit()
    target = workflows[0]
    plan = [(target, runs)] + [(w, runs // OTHER_WORKFLOWS) for w in workflows[1:]]
    now = utcnow()
    key = 0
    for workflow, count in plan:
        version_id = workflow.published_version_id
        first_id = (db.session.scalar(select(func.max(Enrollment.id))) or 0) + 1
        enrollments, logs = [], []
        for n in range(count):
            depth = rng.randint(1, len(STEPS))
            failed = rng.random() < 0.05
            status = "failed" if failed else ("completed" if depth == len(STEPS) else "waiting")
            enrollments.append({
                "id": first_id + n, "account_id": account.id, "workflow_id": workflow.id, "version_id": version_id,
                "contact_id": n + 1, "status": status,
                "current_step": None if status == "completed" else STEPS[depth - 1], "seq": depth,
                "is_test": False, "source_key": f"bench:{first_id + n}", "created_at": now, "updated_at": now,
            })
            for i in range(depth):
                key += 1
                last = i == depth - 1
                outcome = "failed" if failed and last else ("waiting" if last and status == "waiting" else "ok")
                logs.append({
                    "enrollment_id": first_id + n, "workflow_id": workflow.id, "version_id": version_id,
                    "contact_id": enrollments[-1]["contact_id"], "step_id": STEPS[i], "step_type": "add_tag",
                    "idempotency_key": f"k{key}", "input": {"tag": STEPS[i]}, "outcome": outcome,
                    "output": {"added": True}, "is_test": False, "started_at": now, "finished_at": now,
                    "duration_ms": 1.0,
                })
            if len(logs) >= 20_000:
                db.session.execute(Enrollment.__table__.insert(), enrollments)
                db.session.execute(ExecutionLog.__table__.insert(), logs)
                enrollments, logs = [], []
        if enrollments:
            db.session.execute(Enrollment.__table__.insert(), enrollments)
            db.session.execute(ExecutionLog.__table__.insert(), logs)
        db.session.commit()
    return target.id


def analyze(kind: str) -> None:
    from builder.database import refresh_statistics
    from builder.extensions import db

    if kind == "sqlite":
        refresh_statistics(db.engine)
    else:
        # VACUUM too, as autovacuum would by now: index-only scans need the visibility map it sets.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def time_stats(workflow_id: int, repeat: int) -> tuple[float, float, dict]:
    from builder.domain.workflow_stats import step_stats
    from builder.extensions import db

    timings, result = [], {}
    for _ in range(repeat + 2):  # the first two warm caches and are dropped
        started = time.perf_counter()
        result = step_stats(workflow_id, STEPS)
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()  # end the read, as a request would
    ms = sorted(timings[2:])
    return statistics.median(ms), percentile(ms, 0.95), result


def time_inserts(workflow_id: int, rows: int = 10_000) -> float:
    """Milliseconds to insert `rows` log rows for existing runs, in batches of 100 (an engine pass)."""
    from builder.extensions import db
    from builder.models import Enrollment, ExecutionLog, Workflow, utcnow

    workflow = db.session.get(Workflow, workflow_id)
    enrollment_id, contact_id = db.session.execute(
        select(Enrollment.id, Enrollment.contact_id).where(Enrollment.workflow_id == workflow_id).limit(1)
    ).one()
    now = utcnow()
    stamp = time.perf_counter_ns()
    started = time.perf_counter()
    for batch in range(rows // 100):
        db.session.execute(ExecutionLog.__table__.insert(), [{
            "enrollment_id": enrollment_id, "workflow_id": workflow_id, "version_id": workflow.published_version_id,
            "contact_id": contact_id, "step_id": STEPS[i % len(STEPS)], "step_type": "add_tag",
            "idempotency_key": f"ins{stamp}:{batch}:{i}", "input": {}, "outcome": "ok", "output": {},
            "is_test": False, "started_at": now, "finished_at": now, "duration_ms": 1.0,
        } for i in range(100)])
        db.session.commit()
    return (time.perf_counter() - started) * 1000


def measure(kind: str, services: Services, workdir: Path, runs: int, repeat: int) -> list[str]:
    from builder.extensions import db
    from builder.models import ExecutionLog

    lines = []
    with app_on(kind, services, workdir) as app, app.app_context():
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"DROP INDEX {INDEX}")
            conn.commit()
        started = time.perf_counter()
        workflow_id = seed(runs)
        total = db.session.scalar(select(func.count()).select_from(ExecutionLog))
        mine = db.session.scalar(select(func.count()).where(ExecutionLog.workflow_id == workflow_id))
        db.session.rollback()  # end the read: on SQLite it holds the write lock
        analyze(kind)
        print(f"# {kind}: seeded {total:,} log rows ({mine:,} for the measured workflow) "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        insert_before = time_inserts(workflow_id)
        before = time_stats(workflow_id, repeat)
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE INDEX {INDEX} ON execution_logs "
                                 "(workflow_id, is_test, outcome, step_id, enrollment_id)")
            conn.commit()
        analyze(kind)
        after = time_stats(workflow_id, repeat)
        insert_after = time_inserts(workflow_id)
        assert before[2] == after[2], "the index must not change the answer"
        passed = {sid: counts["passed"] for sid, counts in after[2]["steps"].items()}
        print(f"# passed per step: {passed}", flush=True)
        for label, (p50, p95, _), inserts in (("without", before, insert_before), ("with", after, insert_after)):
            lines.append(f"| {kind} | {mine:,} | {total:,} | {label} | {p50:.1f} | {p95:.1f} | {inserts:.0f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs of the measured workflow")
    parser.add_argument("--repeat", type=int, default=30)
    service_args(parser)
    args = parser.parse_args()
    with claimed_redis(args.redis, None) as redis_url, tempfile.TemporaryDirectory() as tmp:
        if "postgres" in args.db:
            ensure_pg_database(args.pg)
        services = Services(redis_url=redis_url, pg_url=args.pg)
        lines = []
        for kind in args.db.split(","):
            lines += measure(kind, services, Path(tmp), args.runs, args.repeat)
    print("\n| DB | workflow's log rows | all log rows | step stats index | step_stats p50 ms | p95 ms "
          "| insert 10,000 rows ms |\n|---|---:|---:|---|---:|---:|---:|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
