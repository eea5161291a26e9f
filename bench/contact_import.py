#!/usr/bin/env python
"""Contact CSV import at scale: one upload of N generated rows, imported by one worker, its memory sampled.

    python bench/contact_import.py [--sizes 100000] [--db postgres,sqlite] [--existing 5000]

For every database x size it builds a fresh database with an account, a manager and `--existing`
contacts whose phones the file repeats (so the duplicate lookups find something), writes a CSV of N
rows (first name, last name, email, phone, a custom value, tags; one row in a thousand is bad: a phone
that is no number, an email that is no address, or no name, email or phone at all), starts one
long-running `flask --app app worker`, then uploads the file through Flask's test client
(POST /api/contacts/imports), starts it (duplicates: update, a batch tag) and times until the import
is finished. Every half second it samples the worker's resident memory (with its work-horse) and the
import's progress.

Checked after every run: the counters add up to N, the rejected rows are exactly the bad ones, each
phone is on one contact, every contact carries the batch tag, no failed jobs.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_million import rss_kib, tree_rss_kib  # noqa: E402
from engine_throughput import (  # noqa: E402
    Database,
    Services,
    app_for,
    bench_env,
    claimed_redis,
    csv_ints,
    database_kinds,
    failed_jobs,
    fresh_database,
    reset_redis,
    scalar,
    start_workers,
    stop_workers,
    wait_registered,
)

MAPPING = ["first_name", "last_name", "email", "phone", "custom:plan", "tag"]
BAD_EVERY = 1000
KIB = 1024


def phone(i: int) -> str:
    return f"+1415{2000000 + i:07d}"


def write_csv(path: Path, size: int) -> int:
    """N rows, about one in a thousand bad; returns how many are bad. Phones as people type them."""
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "Email", "Phone", "Plan", "Tags"])
        for i in range(size):
            number = phone(i)
            local = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
            if i % BAD_EVERY == 500:
                bad += 1
                kind = (i // BAD_EVERY) % 3
                row = ([f"Bad{i}", "Row", f"bad{i}@example.com", "12345", "", ""] if kind == 0 else
                       [f"Bad{i}", "Row", "not-an-email", local, "", ""] if kind == 1 else
                       ["", "", "", "", "gold", "x"])
            else:
                row = [f"First{i}", "Last", f"person{i}@example.com", local, ("gold", "silver", "tin")[i % 3],
                       "lead, fair" if i % 2 else "lead"]
            writer.writerow(row)
    return bad


def seed(db: Database, existing: int) -> str:
    """The account, its manager and `existing` contacts with the file's phones; the manager's API token."""
    from sqlalchemy import insert

    from builder.domain.users import create_user
    from builder.extensions import db as app_db
    from builder.models import Account, ApiToken, Contact, utcnow

    account = Account(name="Import bench", quiet_hours_enabled=False)
    app_db.session.add(account)
    app_db.session.commit()
    manager = create_user("manager@bench.test", "manager", "bench-password", account=account)
    token, secret = ApiToken.issue(manager)
    app_db.session.add(token)
    now = utcnow()
    for start in range(0, existing, 5000):
        app_db.session.execute(insert(Contact), [
            {"account_id": account.id, "first_name": f"Old{i}", "phone": phone(i * 7), "timezone": "UTC",
             "custom_fields": {}, "created_at": now, "updated_at": now}
            for i in range(start, min(existing, start + 5000))])
    app_db.session.commit()
    app_db.session.remove()
    return secret


@dataclass
class Sample:
    seconds: float
    processed: int
    rss: int  # KiB, the worker with its children
    own: int  # KiB, the worker process alone


@dataclass
class Sampler:
    db: Database
    pid: int
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.started = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn = self.db.connect()
        try:
            while not self._stop.is_set():
                processed = scalar(conn, "SELECT coalesce(max(processed), 0) FROM contact_imports")
                self.samples.append(Sample(time.perf_counter() - self.started, processed, tree_rss_kib(self.pid),
                                           rss_kib(self.pid)))
                self._stop.wait(self.interval)
        finally:
            conn.close()


@dataclass
class Result:
    db: str
    size: int
    upload: float  # the upload request, answered 201
    wall: float  # from the start request to the import finished
    baseline: int  # KiB, the listening worker before the import
    peak: int
    peak_own: int
    counts: dict[str, int]
    load: float
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def bench_run(kind: str, size: int, services: Services, workdir: Path, args) -> Result:
    from builder.extensions import db as app_db
    from builder.models import ContactImport

    reset_redis(services.redis_url)
    db = fresh_database(kind, services, workdir)
    queue = f"import-{uuid.uuid4().hex[:8]}"
    env = bench_env(db, services, queue, {})
    csv_path = workdir / f"import-{size}.csv"
    bad = write_csv(csv_path, size)
    procs = []
    conn = None
    try:
        with app_for(env) as app:
            headers = {"Authorization": f"Bearer {seed(db, args.existing)}"}
            procs = start_workers(1, env, workdir, simple=False, burst=False)
            wait_registered(procs, services.redis_url, queue)
            time.sleep(1)  # the worker's own start-up settles before the baseline
            client = app.test_client()
            began = time.perf_counter()
            with open(csv_path, "rb") as handle:
                resp = client.post("/api/contacts/imports", data={"file": (io.BytesIO(handle.read()), "big.csv")},
                                   content_type="multipart/form-data", headers=headers)
            upload = time.perf_counter() - began
            app_db.session.remove()  # the test client shares this context: end its read (SQLite: one writer)
            assert resp.status_code == 201, resp.get_data(as_text=True)
            import_id = resp.json["id"]
            sampler = Sampler(db, procs[0].pid)
            sampler.start()
            began = time.perf_counter()
            resp = client.post(f"/api/contacts/imports/{import_id}/start", json={
                "mapping": MAPPING, "duplicates": "update", "tags": ["bench"]}, headers=headers)
            assert resp.status_code == 202, resp.get_data(as_text=True)
            app_db.session.remove()
            conn = db.connect()
            status = f"SELECT status FROM contact_imports WHERE id = {import_id}"
            while scalar(conn, status) not in ("finished", "failed"):
                time.sleep(0.2)
            wall = time.perf_counter() - began
            sampler.stop()
            found = app_db.session.get(ContactImport, import_id)
            counts = {name: getattr(found, name) for name in ("total", "processed", "created", "updated", "skipped",
                                                               "rejected")}
            counts["status"] = found.status  # type: ignore[assignment]
            app_db.session.remove()
        contacts = scalar(conn, "SELECT count(*) FROM contacts")
        checks = {
            "finished": counts["status"] == "finished",
            "counters add up": counts["created"] + counts["updated"] + counts["skipped"] + counts["rejected"] == size,
            "the bad rows are rejected": counts["rejected"] == bad,
            "contacts = existing + created": contacts == args.existing + counts["created"],
            "one contact per phone": scalar(conn, "SELECT count(*) FROM (SELECT phone FROM contacts GROUP BY phone "
                                                  "HAVING count(*) > 1) AS d") == 0,
            "batch tag on every imported contact": scalar(conn, "SELECT count(*) FROM contact_tags WHERE tag = 'bench'")
            == counts["created"] + counts["updated"],
            "no failed jobs": failed_jobs(services.redis_url, queue) == 0,
        }
        samples = sampler.samples or [Sample(0, 0, 0, 0)]
        return Result(kind, size, upload, wall, samples[0].rss, max(s.rss for s in samples),
                      max(s.own for s in samples), counts, os.getloadavg()[0], checks)
    finally:
        if conn is not None:
            conn.close()
        stop_workers(procs, terminate=True)
        db.cleanup()
        csv_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--db", default="postgres,sqlite")
    parser.add_argument("--existing", type=int, default=5000, help="contacts the file's phones partly repeat")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--redis-db", type=int, default=None)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-import-bench-"))
    ok = True
    try:
        with claimed_redis(args.redis, args.redis_db) as redis_url:
            services = Services(redis_url=redis_url, pg_url=args.pg)
            print(f"# flowdesk contact import ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})\n")
            print("| db | rows | upload | import | rows/s | worker RSS before / peak (worker alone) | "
                  "created / updated / rejected | load | checks |")
            print("|---|---:|---:|---:|---:|---|---|---:|---|")
            for kind in database_kinds(args):
                for size in csv_ints(args.sizes):
                    r = bench_run(kind, size, services, workdir, args)
                    ok = ok and r.ok
                    failed = [name for name, passed in r.checks.items() if not passed]
                    print(f"| {r.db} | {r.size:,} | {r.upload:.1f} s | {r.wall:.1f} s | {r.size / r.wall:,.0f} | "
                          f"{r.baseline / KIB:.0f} / {r.peak / KIB:.0f} ({r.peak_own / KIB:.0f}) MiB | "
                          f"{r.counts['created']:,} / {r.counts['updated']:,} / {r.counts['rejected']:,} | "
                          f"{r.load:.1f} | {'all passed' if not failed else 'FAILED: ' + ', '.join(failed)} |",
                          flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
