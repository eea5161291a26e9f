#!/usr/bin/env python
"""The manual actions list at scale: GET /api/manual-actions with filters over 100,000 rows.

    python bench/list_latency.py [--rows 100000] [--repeat 50] [--db sqlite,postgres]

Rows are spread over 20 workflows, 10 agents, both types and both statuses, with
creation times over 90 days. Each filter combination is requested --repeat times
through the whole web stack in process (Flask's test client: routing, token auth,
query parsing, the page query, its count, serialisation of 50 rows), as an agent
and as a manager; p50 and p95 are reported. Databases as in engine_throughput.py.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_throughput import Services, claimed_redis, ensure_pg_database  # noqa: E402
from support import app_on, percentile, service_args  # noqa: E402

AGENTS, WORKFLOWS, CONTACTS = 10, 20, 5000


def seed(rows: int):
    from builder.domain.users import create_user
    from builder.extensions import db
    from builder.models import Account, Contact, ManualAction, Workflow, utcnow

    rng = random.Random(7)
    account = Account(name="bench", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.commit()
    manager = create_user("manager@bench.test", "manager", "bench-password", account=account)
    agents = [create_user(f"agent{i}@bench.test", "agent", "bench-password", account=account) for i in range(AGENTS)]
    db.session.add_all(Workflow(account_id=account.id, name=f"Workflow {i}") for i in range(WORKFLOWS))
    db.session.execute(Contact.__table__.insert(), [
        {"account_id": account.id, "first_name": f"C{i}", "last_name": "Bench", "phone": "+14155551000",
         "timezone": "UTC", "custom_fields": {}, "dnd_sms": False, "dnd_call": False, "is_test": False}
        for i in range(CONTACTS)])
    db.session.commit()
    now = utcnow()
    workflow_ids = [w.id for w in db.session.query(Workflow.id)]
    batch = []
    for _ in range(rows):
        done = rng.random() < 0.6
        created = now - timedelta(seconds=rng.randrange(90 * 86400))
        batch.append({
            "account_id": account.id, "type": rng.choice(["sms", "call"]),
            "status": "completed" if done else "queued", "name": "Follow up",
            "assignee_id": rng.choice(agents).id, "contact_id": rng.randrange(1, CONTACTS + 1),
            "workflow_id": rng.choice(workflow_ids), "parks_enrollment": True, "message": "Hi there",
            "is_test": False, "created_at": created, "updated_at": created,
            "completed_at": created + timedelta(hours=1) if done else None,
        })
        if len(batch) == 10_000:
            db.session.execute(ManualAction.__table__.insert(), batch)
            batch = []
    if batch:
        db.session.execute(ManualAction.__table__.insert(), batch)
    db.session.commit()
    return manager, agents[0], workflow_ids


def measure(kind: str, services: Services, workdir: Path, rows: int, repeat: int) -> list[tuple[str, float, float]]:
    from builder.database import refresh_statistics
    from builder.extensions import db

    with app_on(kind, services, workdir) as app:
        with app.app_context():
            manager, agent, workflow_ids = seed(rows)
            who = {"manager": manager.email, "agent": agent.email}
            agent_id = agent.id
            db.session.commit()  # end the read transaction (on SQLite it holds the write lock)
            # Planner statistics as the running app keeps them: workers refresh SQLite's
            # (builder.database.refresh_statistics); PostgreSQL's autovacuum analyzes new tables.
            if kind == "sqlite":
                refresh_statistics(db.engine)
            else:
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
            db.session.remove()
        client = app.test_client()
        tokens = {
            role: client.post("/api/auth/token", json={"email": email, "password": "bench-password"}).json["token"]
            for role, email in who.items()
        }
        cases = [
            ("manager", "status=queued"),
            ("manager", f"status=queued&workflow_id={workflow_ids[3]}"),
            ("manager", f"status=queued&assignee_id={agent_id}"),
            ("manager", "status=queued&type=call"),
            ("manager", "status=completed&page=20"),
            ("manager", "contact_id=42"),
            ("agent", "status=queued"),
            ("agent", f"status=queued&workflow_id={workflow_ids[3]}&type=sms"),
        ]
        results = []
        for role, query in cases:
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            timings = []
            for _ in range(repeat + 2):  # the first two warm caches and are dropped
                started = time.perf_counter()
                resp = client.get(f"/api/manual-actions?{query}", headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200, resp.json
            ms = sorted(timings[2:])
            results.append((f"{role}: {query}", statistics.median(ms), percentile(ms, 0.95)))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    service_args(parser)
    args = parser.parse_args()
    print("| DB | rows | request | p50 ms | p95 ms |\n|---|---:|---|---:|---:|")
    with claimed_redis(args.redis, None) as redis_url, tempfile.TemporaryDirectory() as tmp:
        if "postgres" in args.db:
            ensure_pg_database(args.pg)
        services = Services(redis_url=redis_url, pg_url=args.pg)
        for kind in args.db.split(","):
            for label, p50, p95 in measure(kind, services, Path(tmp), args.rows, args.repeat):
                print(f"| {kind} | {args.rows:,} | `{label}` | {p50:.1f} | {p95:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
