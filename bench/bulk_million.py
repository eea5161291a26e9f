#!/usr/bin/env python
"""Bulk enrollment at scale: one enroll request by filter for N contacts, with the workers' memory sampled.

    python bench/bulk_million.py [--sizes 100000,1000000] [--db postgres,sqlite] [--workers 2]

For every database x size it builds a fresh database, seeds N contacts in bulk
(PostgreSQL: one INSERT ... SELECT over generate_series; SQLite: executemany in
chunks), a manager with an API token and a published two-step instant workflow

    s1 add_tag -> s2 update_contact_field

starts long-running `flask --app app worker` processes and waits until they listen,
then sends one POST /api/workflows/<id>/enroll with `filter: {}` (every contact)
through Flask's test client in this process, and times until every run is completed.

Every second it samples each worker's resident memory (VmRSS from /proc, the worker
plus any work-horse it forked) and the request's progress (bulk_enrollments.processed,
contacts whose batch has been enrolled and moved). It reports the total time, runs/s,
each worker's RSS at start and at 10/50/90/100% of progress, and its maximum: a
worker whose memory grows per job shows it as a climb from 10% to 100%.

Checked after every run: one run per contact, all completed, one tag row and two
log rows per contact, the field set on every contact, no failed jobs.

Redis, PostgreSQL and SQLite are isolated per run as in engine_throughput.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
    process_cpu,
    reset_redis,
    scalar,
    start_workers,
    stop_workers,
    wait_registered,
)

TAG = "bulk"
GRAPH: dict[str, Any] = {
    "name": "Bench: bulk, 2 instant steps",
    "trigger": {"type": "manual", "config": {}},
    "start": "s1",
    "steps": {
        "s1": {"type": "add_tag", "config": {"tag": TAG}, "next": "s2"},
        "s2": {"type": "update_contact_field", "config": {"field": "custom.stage", "value": "enrolled"},
               "next": None},
    },
}
SEED_CHUNK = 50_000
MARKS = (0.10, 0.50, 0.90, 1.00)
KIB = 1024


# --- seeding ------------------------------------------------------------------

def seed_contacts(db: Database, account_id: int, size: int) -> None:
    """N contacts straight into the table, outside the ORM (a million ORM inserts would take minutes)."""
    columns = ("account_id, first_name, last_name, email, phone, timezone, dnd_sms, dnd_call, custom_fields, "
               "is_test, created_at, updated_at")
    conn = db.connect()
    try:
        if db.kind == "postgres":
            conn.execute(
                f"INSERT INTO contacts ({columns}) SELECT %s, 'Contact' || g, 'Bulk', 'c' || g || '@example.com', "
                "'+1415' || lpad((g %% 10000000)::text, 7, '0'), 'UTC', false, false, '{}', false, "
                "now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc' FROM generate_series(1, %s) AS g",
                (account_id, size))
            conn.execute("ANALYZE contacts")
        else:
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            conn.execute("BEGIN")
            for start in range(0, size, SEED_CHUNK):
                conn.executemany(
                    f"INSERT INTO contacts ({columns}) VALUES (?, ?, 'Bulk', ?, ?, 'UTC', 0, 0, '{{}}', 0, ?, ?)",
                    [(account_id, f"Contact{i}", f"c{i}@example.com", f"+1415{i % 10_000_000:07d}", now, now)
                     for i in range(start + 1, min(size, start + SEED_CHUNK) + 1)])
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
    finally:
        conn.close()


def seed(db: Database, size: int) -> tuple[int, str]:
    """The account, a manager and their API token, N contacts, the published workflow: (workflow id, token)."""
    from builder.domain.users import create_user
    from builder.domain.workflows import create_workflow
    from builder.extensions import db as app_db
    from builder.models import Account, ApiToken

    account = Account(name="Bulk bench", quiet_hours_enabled=False)
    app_db.session.add(account)
    app_db.session.commit()
    manager = create_user("manager@bench.test", "manager", "bench-password", account=account)
    token, secret = ApiToken.issue(manager)
    app_db.session.add(token)
    workflow = create_workflow(account.id, GRAPH)
    app_db.session.commit()
    workflow_id, account_id = workflow.id, account.id
    app_db.session.remove()  # on SQLite an open session would hold the lock the seeding needs
    seed_contacts(db, account_id, size)
    return workflow_id, secret


# --- memory sampling ------------------------------------------------------------

def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (a forking worker's work-horses), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_rss_kib(pid: int) -> int:
    return rss_kib(pid) + sum(rss_kib(child) for child in descendants(pid))


@dataclass
class Sample:
    seconds: float
    processed: int
    rss: list[int]  # KiB per worker, with its children (RQ's scheduler, any work-horse)
    own: list[int]  # KiB per worker process alone


@dataclass
class Sampler:
    """A thread that records the workers' RSS and the request's progress every `interval` seconds."""

    db: Database
    pids: list[int]
    interval: float
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
        self.take()  # the last word: after the last run completed

    def take(self, conn=None) -> None:
        own = conn is None
        conn = conn or self.db.connect()
        try:
            processed = scalar(conn, "SELECT coalesce(max(processed), 0) FROM bulk_enrollments")
        finally:
            if own:
                conn.close()
        self.samples.append(Sample(time.perf_counter() - self.started, processed,
                                   [tree_rss_kib(pid) for pid in self.pids], [rss_kib(pid) for pid in self.pids]))

    def _run(self) -> None:
        conn = self.db.connect()
        try:
            while not self._stop.is_set():
                self.take(conn)
                self._stop.wait(self.interval)
        finally:
            conn.close()


# --- one run --------------------------------------------------------------------

@dataclass
class Result:
    db: str
    size: int
    workers: int
    seed: float
    request: float  # the enroll request, answered 202
    wall: float  # from sending the request to the last run completed
    web_rss_delta: int  # KiB this (web) process grew by over the request
    baseline: list[int]  # KiB per worker, listening, before the request
    at_marks: dict[float, list[int]]  # progress share -> KiB per worker
    peak: list[int]
    own_at_marks: dict[float, list[int]]  # the worker processes alone, without children
    worker_cpu: float
    samples: int
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def at_progress(samples: list[Sample], size: int, own: bool = False) -> dict[float, list[int]]:
    """Each worker's RSS at the first sample that reached each mark of progress."""
    marks = {}
    for mark in MARKS:
        reached = [s for s in samples if s.processed >= mark * size]
        sample = reached[0] if reached else samples[-1]
        marks[mark] = sample.own if own else sample.rss
    return marks


def bench_run(kind: str, size: int, workers: int, services: Services, workdir: Path, args) -> Result:
    reset_redis(services.redis_url)
    db = fresh_database(kind, services, workdir)
    queue = f"bulk-{uuid.uuid4().hex[:8]}"
    tuning = {k: str(v) for k, v in (("ENROLL_CHUNK_SIZE", args.chunk_size), ("ENGINE_TXN_SIZE", args.txn_size)) if v}
    env = bench_env(db, services, queue, tuning)
    procs: list[subprocess.Popen] = []
    conn = None
    try:
        with app_for(env) as app:
            from builder.extensions import db as app_db

            began = time.perf_counter()
            workflow_id, secret = seed(db, size)
            seeded = time.perf_counter() - began
            print(f"  {kind:8} N={size:<8} seeded in {seeded:.1f} s", flush=True)
            procs = start_workers(workers, env, workdir, simple=False, burst=False)
            wait_registered(procs, services.redis_url, queue)
            time.sleep(1)  # past the start-up reconcile pass
            pids = [p.pid for p in procs]
            baseline = [tree_rss_kib(pid) for pid in pids]
            cpu_before = process_cpu(pids)
            conn = db.connect()
            sampler = Sampler(db, pids, args.sample)
            client = app.test_client()
            web_before = rss_kib(os.getpid())
            sampler.start()
            started = time.perf_counter()
            resp = client.post(f"/api/workflows/{workflow_id}/enroll", json={"filter": {}},
                               headers={"Authorization": f"Bearer {secret}"})
            request = time.perf_counter() - started
            web_delta = rss_kib(os.getpid()) - web_before
            app_db.session.remove()
            if resp.status_code != 202 or resp.json["total"] != size:
                raise SystemExit(f"enroll answered {resp.status_code}: {resp.get_data(as_text=True)[:500]}")
            print(f"  {kind:8} N={size:<8} enroll request answered in {request:.2f} s "
                  f"({resp.json['total']:,} contacts)", flush=True)
            deadline = started + args.timeout
            next_report = started + 30
            done = 0
            while True:
                # The request's counter is one row; counting a million runs every second would cost
                # the workers CPU, so that waits until every batch is in.
                processed = scalar(conn, "SELECT processed FROM bulk_enrollments")
                if processed >= size:
                    done = scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'completed'")
                    if done >= size:
                        break
                now = time.perf_counter()
                if now > deadline:
                    raise SystemExit(f"{kind} N={size}: {processed:,}/{size:,} processed, {done:,} completed after "
                                     f"{args.timeout:.0f} s; "
                                     f"logs in {workdir}")
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"{kind} N={size}: a worker exited; logs in {workdir}")
                if now > next_report:
                    rss = ", ".join(f"{kib / KIB:.0f}" for kib in sampler.samples[-1].rss)
                    print(f"    {now - started:5.0f} s: {processed:,} processed, worker RSS MiB {rss}", flush=True)
                    next_report = now + 30
                time.sleep(args.poll)
            wall = time.perf_counter() - started
            sampler.stop()
            worker_cpu = process_cpu(pids) - cpu_before
            stop_workers(procs, terminate=True)
            checks = verify(conn, size, failed_jobs(services.redis_url, queue))
            peak = [max(s.rss[i] for s in sampler.samples) for i in range(len(pids))]
            return Result(kind, size, workers, seeded, request, wall, web_delta, baseline,
                          at_progress(sampler.samples, size), peak, at_progress(sampler.samples, size, own=True),
                          worker_cpu, len(sampler.samples), checks)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        if conn is not None:
            conn.close()
        db.cleanup()


def verify(conn, size: int, failed: int) -> dict[str, bool]:
    q = lambda sql: scalar(conn, sql)  # noqa: E731
    return {
        "one run per contact": q("SELECT count(*) FROM enrollments") == size
        and q("SELECT count(DISTINCT contact_id) FROM enrollments") == size,
        "all completed": q("SELECT count(*) FROM enrollments WHERE status = 'completed'") == size,
        "one tag each": q(f"SELECT count(*) FROM contact_tags WHERE tag = '{TAG}'") == size
        and q("SELECT count(DISTINCT contact_id) FROM contact_tags") == size,
        "two log rows each": q("SELECT count(*) FROM execution_logs WHERE outcome = 'ok'") == 2 * size
        and q("SELECT count(*) FROM execution_logs") == 2 * size,
        "field set on all": q("SELECT count(*) FROM contacts WHERE custom_fields LIKE '%enrolled%'") == size
        if conn.__class__.__module__.startswith("sqlite3")
        else q("SELECT count(*) FROM contacts WHERE custom_fields->>'stage' = 'enrolled'") == size,
        "request finished": q("SELECT count(*) FROM bulk_enrollments WHERE finished_at IS NOT NULL "
                              f"AND processed = {size} AND enrolled = {size}") == 1,
        "no failed jobs": failed == 0,
    }


# --- report ---------------------------------------------------------------------

def mib(kib: int) -> str:
    return f"{kib / KIB:.0f}"


def table(results: list[Result]) -> str:
    marks = " | ".join(f"RSS @{m:.0%} MiB" for m in MARKS)
    lines = [f"| DB | contacts | workers | seed s | request s | total s | runs/s | worker CPU s "
             f"| RSS idle MiB | {marks} | RSS max MiB | growth 10%->100% MiB | correct |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(MARKS) + "---:|---:|---|"]
    for r in results:
        bad = [name for name, ok in r.checks.items() if not ok]
        per = lambda values: " / ".join(mib(v) for v in values)  # noqa: E731
        pairs = zip(r.at_marks[0.10], r.at_marks[1.00], strict=True)
        growth = " / ".join(f"{(end - start) / KIB:+.0f}" for start, end in pairs)
        lines.append(
            f"| {r.db} | {r.size:,} | {r.workers} | {r.seed:.1f} | {r.request:.2f} | {r.wall:.1f} | "
            f"{r.size / r.wall:,.0f} | {r.worker_cpu:.0f} | {per(r.baseline)} | "
            + " | ".join(per(r.at_marks[m]) for m in MARKS)
            + f" | {per(r.peak)} | {growth} | {'yes' if not bad else 'NO: ' + ', '.join(bad)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="contacts per run, comma-separated")
    parser.add_argument("--db", default="postgres,sqlite", help="postgres, sqlite or both")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--chunk-size", type=int, help="ENROLL_CHUNK_SIZE for the workers (default: the app's)")
    parser.add_argument("--txn-size", type=int, help="ENGINE_TXN_SIZE for the workers (default: the app's)")
    parser.add_argument("--sample", type=float, default=1.0, help="seconds between RSS samples")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between completion polls")
    parser.add_argument("--timeout", type=float, default=5400, help="seconds before a run is given up")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench",
                        help="PostgreSQL database to create run schemas in (created if missing)")
    args = parser.parse_args(argv)

    kinds = database_kinds(args)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-bulk-"))
    results: list[Result] = []
    try:
        with claimed_redis(args.redis, args.redis_db) as redis_url:
            services = Services(redis_url=redis_url, pg_url=args.pg)
            load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"# flowdesk bulk enrollment by filter ({os.cpu_count()} CPUs, {args.workers} workers, "
                  f"load average {load} at start)\n", flush=True)
            for kind in kinds:
                for size in csv_ints(args.sizes):
                    result = bench_run(kind, size, args.workers, services, workdir, args)
                    results.append(result)
                    print(f"  {kind:8} N={size:<8} {result.wall:7.1f} s, {size / result.wall:,.0f} runs/s, "
                          f"RSS max {' / '.join(mib(v) for v in result.peak)} MiB, "
                          f"checks {sum(result.checks.values())}/{len(result.checks)} passed", flush=True)
    except BaseException:
        print(f"worker logs kept in {workdir}", file=sys.stderr)
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n## One enroll request by filter, {args.workers} workers (RSS per worker; load average {load} at end)\n")
    print(table(results))
    print("\nThe worker processes alone (without RQ's scheduler child), MiB at 10/50/90/100%:\n")
    for r in results:
        print(f"- {r.db} {r.size:,}: " + "; ".join(
            f"{m:.0%} {' / '.join(mib(v) for v in r.own_at_marks[m])}" for m in MARKS))
    if results:
        print(f"\nChecked after every run: {'; '.join(results[0].checks)}.")
    for r in results:
        if not r.ok:
            print(f"FAILED on {r.db} N={r.size}: {', '.join(n for n, ok in r.checks.items() if not ok)}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
