#!/usr/bin/env python
"""How long POST /api/workflows/<id>/enroll takes to answer 202 for 10,000 contacts.

    python bench/enroll_latency.py [--contacts 10000] [--repeat 15] [--db sqlite,postgres]

The request goes through the whole web stack in process (Flask's test client:
routing, token auth, marshmallow validation, the database insert of the request
row, and enqueueing its batch jobs to the real Redis). No worker runs, so the
figure is the request alone. Databases and Redis are isolated as in
engine_throughput.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_throughput import Services, claimed_redis, ensure_pg_database  # noqa: E402
from support import app_on, percentile, service_args  # noqa: E402


def measure(kind: str, services: Services, workdir: Path, contacts: int, repeat: int) -> list[float]:
    from builder.domain.users import create_user
    from builder.extensions import db
    from builder.models import Account, Contact

    with app_on(kind, services, workdir) as app:
        with app.app_context():
            account = Account(name="bench", quiet_hours_enabled=False)
            db.session.add(account)
            db.session.commit()
            create_user("bench@flowdesk.test", "admin", "bench-password", account=account)
            db.session.execute(Contact.__table__.insert(), [
                {"account_id": account.id, "first_name": f"C{i}", "phone": "+14155551000", "timezone": "UTC",
                 "custom_fields": {}, "dnd_sms": False, "dnd_call": False, "is_test": False}
                for i in range(contacts)
            ])
            db.session.commit()
            ids = [row[0] for row in db.session.execute(Contact.__table__.select().with_only_columns(Contact.id))]
            db.session.remove()
        client = app.test_client()
        token = client.post("/api/auth/token", json={"email": "bench@flowdesk.test",
                                                     "password": "bench-password"}).json["token"]
        auth = {"Authorization": f"Bearer {token}"}
        graph = {"name": "bench", "start": "a", "steps": {"a": {"type": "add_tag", "config": {"tag": "x"}}}}
        wf = client.post("/api/workflows", json=graph, headers=auth).json
        client.post(f"/api/workflows/{wf['id']}/publish", json={}, headers=auth)
        timings = []
        for _ in range(repeat + 1):  # the first request warms caches and is dropped
            started = time.perf_counter()
            resp = client.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": ids}, headers=auth)
            timings.append(time.perf_counter() - started)
            assert resp.status_code == 202, resp.json
        return timings[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    service_args(parser)
    args = parser.parse_args()
    print("| DB | contact ids | requests | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    with claimed_redis(args.redis, None) as redis_url, tempfile.TemporaryDirectory() as tmp:
        if "postgres" in args.db:
            ensure_pg_database(args.pg)
        services = Services(redis_url=redis_url, pg_url=args.pg)
        for kind in args.db.split(","):
            ms = sorted(t * 1000 for t in measure(kind, services, Path(tmp), args.contacts, args.repeat))
            p50, p95 = statistics.median(ms), percentile(ms, 0.95)
            print(f"| {kind} | {args.contacts:,} | {len(ms)} | {p50:.0f} | {p95:.0f} | {ms[-1]:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
