#!/usr/bin/env python
"""Engine throughput: how fast instant workflows move through the RQ workers.

    python bench/engine_throughput.py [--sizes 1000,10000] [--workers 1,2] [--db sqlite,postgres]

For every database x size x worker count it builds a fresh database, loads N
contacts, three users and a published 5-step instant workflow

    s1 assign_user (round-robin over 3 users) -> s2 add_tag -> s3 if_else on contact.email
       -> s4a / s4b update_contact_field -> s5 add_note

then calls jobqueue.enroll.create_request (what POST /api/workflows/<id>/enroll
calls), starts `flask --app app worker --burst` processes and times until the
database says every enrollment is completed. Worker processes are started
right after the enroll request, so the wall time includes their start-up.
Each run is checked for correctness (one note, one tag row and an assigned
user per contact, 5 log rows per contact, an even rotation, no failed jobs).

It also measures RQ's own ceiling on this machine: N no-op jobs
(jobqueue.jobs.noop) enqueued with enqueue_many, drained by 1 and 2 burst
workers of both kinds (forking Worker, SimpleWorker).

Redis: a database number of its own (claimed with the same key the tests use,
so a concurrent test run skips it) and a unique RQ queue name per run.
PostgreSQL: a database `flowdesk_bench` (created if missing), a fresh schema per run.
SQLite: a temporary file per run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from redis import Redis  # noqa: E402

BIN = Path(sys.executable).parent
CLAIM_KEY = "flowdesk:test-run"  # the key tests/conftest.py claims Redis databases with
TAG = "bench"
STEPS_PER_CONTACT = 5

GRAPH: dict[str, Any] = {
    "name": "Bench: 5 instant steps",
    "trigger": {"type": "manual", "config": {}},
    "start": "s1",
    "steps": {
        "s1": {"type": "assign_user", "config": {"user_ids": []}, "next": "s2"},  # ids filled in per run
        "s2": {"type": "add_tag", "config": {"tag": TAG}, "next": "s3"},
        "s3": {"type": "if_else", "config": {
            "branches": [{"name": "Has email", "next": "s4a",
                          "conditions": [{"field": "contact.email", "op": "is_not_empty"}]}],
            "else_next": "s4b"}},
        "s4a": {"type": "update_contact_field", "config": {"field": "custom.channel", "value": "email"},
                "next": "s5"},
        "s4b": {"type": "update_contact_field", "config": {"field": "custom.channel", "value": "sms"},
                "next": "s5"},
        "s5": {"type": "add_note", "next": None,
               "config": {"body": "Welcomed {{ contact.first_name }} by {{ contact.custom.channel }}"}},
    },
}


# --- services ------------------------------------------------------------

@dataclass
class Services:
    redis_url: str  # with the database number
    pg_url: str  # postgresql://.../flowdesk_bench


@contextmanager
def claimed_redis(base: str, number: int | None) -> Iterator[str]:
    """A Redis database number nobody else uses, emptied before and after."""
    token = f"bench-{uuid.uuid4().hex[:8]}"
    numbers = [number] if number is not None else list(range(14, 0, -1))
    for n in numbers:
        conn = Redis.from_url(f"{base}/{n}")
        if conn.set(CLAIM_KEY, token, nx=True, ex=3600):
            break
    else:
        sys.exit(f"no free Redis database among {numbers} at {base} (each holds a {CLAIM_KEY} claim)")
    url = f"{base}/{n}"
    try:
        yield url
    finally:
        conn.flushdb()


def reset_redis(url: str) -> None:
    conn = Redis.from_url(url)
    token = conn.get(CLAIM_KEY)
    conn.flushdb()
    conn.set(CLAIM_KEY, token or b"bench", ex=3600)


def ensure_pg_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- one fresh database ----------------------------------------------------

@dataclass
class Database:
    kind: str
    url: str  # what DATABASE_URL gets
    connect: Callable[[], Any]  # a plain DB-API connection for polling and checks (no app machinery)
    cleanup: Callable[[], None]


def fresh_database(kind: str, services: Services, workdir: Path) -> Database:
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"

        def connect():
            # Autocommit reads: in WAL mode they never take the write lock from the workers.
            return sqlite3.connect(path, isolation_level=None, timeout=30)

        def cleanup():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return Database(kind, f"sqlite:///{path}", connect, cleanup)
    if kind == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(services.pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        options = quote(f"-csearch_path={schema}")

        def connect():
            return psycopg.connect(services.pg_url, autocommit=True, options=f"-csearch_path={schema}")

        def cleanup():
            with psycopg.connect(services.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

        return Database(kind, f"{services.pg_url}?options={options}", connect, cleanup)
    raise SystemExit(f"unknown database {kind!r} (use sqlite, postgres)")


def scalar(conn, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


# --- CPU accounting -----------------------------------------------------------

def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (Linux); (0, 0) elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class CpuMeter:
    """Machine-wide busy share and the CPU seconds of this process's exited children (the workers)."""

    start_machine: tuple[int, int] = field(default_factory=machine_jiffies)
    start_children: float = field(default_factory=lambda: _children_cpu())

    def machine_share(self) -> float:
        busy0, total0 = self.start_machine
        busy1, total1 = machine_jiffies()
        return (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0

    def children_cpu(self) -> float:
        return _children_cpu() - self.start_children


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pids: list[int]) -> float:
    """CPU seconds of running processes plus their waited-for children (work-horses), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


# --- app-side setup (in this process) ---------------------------------------

def bench_env(db: Database, services: Services, queue: str, tuning: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db.url, "REDIS_URL": services.redis_url, "RQ_QUEUE": queue, **tuning}
    env.pop("FLASK_DEBUG", None)
    return env


@contextmanager
def app_for(env: dict[str, str]):
    """The app as the workers will see it: configured from the same environment."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from app import create_app
        from builder.extensions import db

        app = create_app()
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed(size: int):
    """Three users, `size` contacts (two in three with an email), the workflow. Returns (workflow, version, ids)."""
    from sqlalchemy import insert, select

    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import Account, Contact, User, utcnow

    account = Account(name="Bench", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.flush()
    users = [User(account_id=account.id, email=f"agent{i}@bench.test", name=f"Agent {i}", role="agent")
             for i in range(3)]
    db.session.add_all(users)
    db.session.flush()
    now = utcnow()
    db.session.execute(insert(Contact), [
        {"account_id": account.id, "first_name": f"Contact{i}", "last_name": "Bench",
         "email": f"c{i}@example.com" if i % 3 else None, "phone": f"+1415555{i % 10000:04d}",
         "timezone": "UTC", "custom_fields": {}, "created_at": now, "updated_at": now}
        for i in range(size)
    ])
    graph = {**GRAPH, "steps": {**GRAPH["steps"]}}
    graph["steps"]["s1"] = {**graph["steps"]["s1"], "config": {"user_ids": [u.id for u in users]}}
    workflow = create_workflow(account.id, graph)
    version = workflow.published_version
    db.session.commit()
    ids = list(db.session.scalars(select(Contact.id).order_by(Contact.id)))
    return workflow, version, ids


# --- workers ----------------------------------------------------------------

def start_workers(count: int, env: dict[str, str], logdir: Path, *, simple: bool,
                  burst: bool = True) -> list[subprocess.Popen]:
    procs = []
    for i in range(count):
        cmd = [str(BIN / "flask"), "--app", "app", "worker"] + (["--burst"] if burst else [])
        cmd += ["--simple"] if simple else []
        with open(logdir / f"worker-{env['RQ_QUEUE']}-{i}.log", "wb") as log:
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    return procs


def wait_registered(procs: list[subprocess.Popen], redis_url: str, queue_name: str, timeout: float = 60) -> None:
    """Until every (long-running) worker has registered with RQ and is listening."""
    from rq import Queue, Worker

    queue = Queue(queue_name, connection=Redis.from_url(redis_url))
    deadline = time.monotonic() + timeout
    while Worker.count(queue=queue) < len(procs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("workers did not start")
        time.sleep(0.05)


def stop_workers(procs: list[subprocess.Popen], timeout: float = 60, *, terminate: bool = False) -> None:
    """Wait for burst workers to exit; `terminate`: ask long-running ones to stop (warm shutdown)."""
    if terminate:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def failed_jobs(redis_url: str, queue_name: str) -> int:
    from rq import Queue

    redis = Redis.from_url(redis_url)
    # Both of a worker's queues (jobqueue.queues): bulk work and the priority jobs.
    names = (queue_name, f"{queue_name}.priority")
    return sum(Queue(name, connection=redis).failed_job_registry.count for name in names)


# --- one engine run -----------------------------------------------------------

@dataclass
class EngineResult:
    db: str
    size: int
    workers: int
    wall: float
    first_done: float
    logs: int
    busy: float  # share of the machine's CPU time in use during the run (all processes)
    worker_cpu: float  # CPU seconds the worker processes (and their work-horses) used
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def engine_run(kind: str, size: int, workers: int, services: Services, workdir: Path, args) -> EngineResult:
    reset_redis(services.redis_url)
    db = fresh_database(kind, services, workdir)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    tuning = {k: str(v) for k, v in (("ENROLL_CHUNK_SIZE", args.chunk_size), ("ENGINE_TXN_SIZE", args.txn_size)) if v}
    env = bench_env(db, services, queue, tuning)
    conn = None
    procs: list[subprocess.Popen] = []
    try:
        with app_for(env):
            from builder.extensions import db as app_db
            from jobqueue import enroll

            workflow, version, ids = seed(size)
            conn = db.connect()
            warm = args.start == "before"
            if warm:  # long-running workers, already listening when the request comes
                procs = start_workers(workers, env, workdir, simple=args.simple, burst=False)
                wait_registered(procs, services.redis_url, queue)
            meter = CpuMeter()
            warm_cpu = process_cpu([p.pid for p in procs])
            started = time.perf_counter()
            enroll.create_request(workflow, version, ids, is_test=False)
            # As at the end of the enroll request: on SQLite an open session holds the write lock.
            app_db.session.remove()
            if not warm:  # burst workers, started now: the wall time includes their start-up
                procs = start_workers(workers, env, workdir, simple=args.simple)
            first_done = None
            done = 0
            deadline = started + args.timeout
            while True:
                done = scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'completed'")
                now = time.perf_counter()
                if done and first_done is None:
                    first_done = now - started
                if done >= size:
                    break
                if now > deadline:
                    raise SystemExit(f"{kind} N={size} w={workers}: only {done}/{size} completed after {args.timeout}s")
                if all(p.poll() is not None for p in procs):
                    # Workers quit; one last look (their final commit may have just landed).
                    done = scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'completed'")
                    if done >= size:
                        break
                    raise SystemExit(f"{kind} N={size} w={workers}: workers exited with {done}/{size} completed; "
                                     f"logs in {workdir}")
                time.sleep(args.poll)
            wall = time.perf_counter() - started
            busy = meter.machine_share()
            if warm:
                time.sleep(0.5)  # let the last work-horse exit and be counted
                warm_cpu = process_cpu([p.pid for p in procs]) - warm_cpu
            stop_workers(procs, terminate=warm)
            # Burst workers: all they used, start-up included (as in the wall time). Warm
            # workers: only what they used during the run, not their start-up.
            worker_cpu = warm_cpu if warm else meter.children_cpu()
            checks = verify(conn, size, failed_jobs(services.redis_url, queue))
            logs = scalar(conn, "SELECT count(*) FROM execution_logs")
            return EngineResult(kind, size, workers, wall, first_done or wall, logs, busy, worker_cpu, checks)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        if conn is not None:
            conn.close()
        db.cleanup()


def verify(conn, size: int, failed: int) -> dict[str, bool]:
    q = lambda sql: scalar(conn, sql)  # noqa: E731
    with_email = q("SELECT count(*) FROM contacts WHERE email IS NOT NULL")
    per_user = [row[0] for row in conn.execute(
        "SELECT count(*) FROM contacts WHERE assigned_user_id IS NOT NULL GROUP BY assigned_user_id"
    ).fetchall()]
    return {
        "enrollments completed": q("SELECT count(*) FROM enrollments") == size
        and q("SELECT count(*) FROM enrollments WHERE status = 'completed'") == size,
        "one note each": q("SELECT count(*) FROM notes") == size
        and q("SELECT count(DISTINCT contact_id) FROM notes") == size,
        "note rendered": q("SELECT count(*) FROM notes WHERE body LIKE 'Welcomed Contact% by email' "
                           "OR body LIKE 'Welcomed Contact% by sms'") == size,
        "one tag row each": q(f"SELECT count(*) FROM contact_tags WHERE tag = '{TAG}'") == size
        and q("SELECT count(*) FROM contact_tags") == size,
        "assigned": q("SELECT count(*) FROM contacts WHERE assigned_user_id IS NULL") == 0,
        "rotation even": len(per_user) == 3 and max(per_user) - min(per_user) <= 1,
        "logs == 5N": q("SELECT count(*) FROM execution_logs") == STEPS_PER_CONTACT * size
        and q("SELECT count(*) FROM execution_logs WHERE outcome = 'ok'") == STEPS_PER_CONTACT * size,
        "branches right": q("SELECT count(*) FROM execution_logs WHERE step_id = 's4a'") == with_email
        and q("SELECT count(*) FROM execution_logs WHERE step_id = 's4b'") == size - with_email,
        "no failed jobs": failed == 0,
    }


# --- RQ no-op ceiling -----------------------------------------------------------

@dataclass
class NoopResult:
    workers: int
    kind: str
    jobs: int
    enqueue: float
    wall: float
    startup: float


def worker_startup(env: dict[str, str], workdir: Path, simple: bool) -> float:
    """Start-up plus exit of one burst worker on an empty queue (app import, create_app, reconcile pass)."""
    started = time.perf_counter()
    stop_workers(start_workers(1, {**env, "RQ_QUEUE": f"empty-{uuid.uuid4().hex[:6]}"}, workdir, simple=simple))
    return time.perf_counter() - started


def noop_run(workers: int, simple: bool, jobs: int, services: Services, workdir: Path, args) -> NoopResult:
    from rq import Queue

    reset_redis(services.redis_url)
    db = fresh_database("sqlite", services, workdir)  # the worker's reconciler wants tables
    queue_name = f"noop-{uuid.uuid4().hex[:8]}"
    env = bench_env(db, services, queue_name, {})
    procs: list[subprocess.Popen] = []
    try:
        with app_for(env):
            from jobqueue.queues import enqueue_many

            startup = worker_startup(env, workdir, simple)
            started = time.perf_counter()
            for start in range(0, jobs, 1000):
                enqueue_many([("jobqueue.jobs.noop", ())] * min(1000, jobs - start))
            enqueued = time.perf_counter() - started
        queue = Queue(queue_name, connection=Redis.from_url(services.redis_url))
        started = time.perf_counter()
        procs = start_workers(workers, env, workdir, simple=simple)
        while queue.finished_job_registry.count < jobs:
            if all(p.poll() is not None for p in procs) and queue.finished_job_registry.count < jobs:
                raise SystemExit(f"no-op run: workers exited with {queue.finished_job_registry.count}/{jobs} done")
            time.sleep(args.poll)
        wall = time.perf_counter() - started
        stop_workers(procs)
        return NoopResult(workers, "SimpleWorker" if simple else "Worker (fork)", jobs, enqueued, wall, startup)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        db.cleanup()


# --- report ---------------------------------------------------------------------

def engine_table(results: list[EngineResult]) -> str:
    lines = [
        "| DB | contacts | workers | wall s | enrollments/s | step executions/s | first done s "
        "| worker CPU s | machine busy | correct |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        bad = [name for name, ok in r.checks.items() if not ok]
        lines.append(
            f"| {r.db} | {r.size:,} | {r.workers} | {r.wall:.2f} | {r.size / r.wall:,.0f} | "
            f"{r.logs / r.wall:,.0f} | {r.first_done:.2f} | {r.worker_cpu:.1f} | {r.busy:.0%} | "
            f"{'yes' if not bad else 'NO: ' + ', '.join(bad)} |"
        )
    return "\n".join(lines)


def noop_table(results: list[NoopResult]) -> str:
    lines = [
        "| worker class | workers | jobs | enqueue_many s | wall s | jobs/s | jobs/s without start-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        net = max(r.wall - r.startup, 1e-9)
        lines.append(f"| {r.kind} | {r.workers} | {r.jobs:,} | {r.enqueue:.2f} | {r.wall:.2f} | "
                     f"{r.jobs / r.wall:,.0f} | {r.jobs / net:,.0f} |")
    return "\n".join(lines)


def database_kinds(args) -> list[str]:
    """The databases `--db` names; exits with a clear message when PostgreSQL is named but not usable."""
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if "postgres" in kinds:
        try:
            ensure_pg_database(args.pg)
        except psycopg.Error as exc:
            sys.exit(f"PostgreSQL at {args.pg} is not usable ({exc}); run with --db sqlite, or pass --pg")
    return kinds


def csv_ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="contacts per run, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker process counts, comma-separated")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--noop-jobs", type=int, default=10_000, help="no-op jobs per ceiling run (0: skip)")
    parser.add_argument("--noop-fork-jobs", type=int, default=1_000,
                        help="no-op jobs for the forking Worker (it forks once per job)")
    parser.add_argument("--simple", action="store_true", help="engine runs use --simple (SimpleWorker)")
    parser.add_argument("--start", choices=["after", "before"], default="after",
                        help="start burst workers after the enroll request (default; wall time includes their "
                             "start-up), or long-running workers before it (warm; stopped with SIGTERM after)")
    parser.add_argument("--chunk-size", type=int, help="ENROLL_CHUNK_SIZE for the workers (default: the app's)")
    parser.add_argument("--txn-size", type=int, help="ENGINE_TXN_SIZE for the workers (default: the app's)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench",
                        help="PostgreSQL database to create run schemas in (created if missing)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between completion polls")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is given up")
    args = parser.parse_args(argv)

    sizes, worker_counts = csv_ints(args.sizes), csv_ints(args.workers)
    kinds = database_kinds(args)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    engine_results: list[EngineResult] = []
    noop_results: list[NoopResult] = []
    try:
        with claimed_redis(args.redis, args.redis_db) as redis_url:
            services = Services(redis_url=redis_url, pg_url=args.pg)
            print(f"# flowdesk engine throughput ({os.cpu_count()} CPUs, Redis {redis_url}, "
                  f"worker class: {'SimpleWorker' if args.simple else 'Worker (fork)'}, workers started "
                  f"{'before' if args.start == 'before' else 'after'} the enroll request, "
                  f"load average {os.getloadavg()[0]:.1f})\n", flush=True)
            for kind in kinds:
                for size in sizes:
                    for workers in worker_counts:
                        result = engine_run(kind, size, workers, services, workdir, args)
                        engine_results.append(result)
                        passed = sum(result.checks.values())
                        print(f"  {kind:8} N={size:<6} workers={workers}: {result.wall:6.2f} s, "
                              f"{result.logs / result.wall:,.0f} steps/s, checks {passed}/{len(result.checks)} passed",
                              flush=True)
            if args.noop_jobs:
                for simple in (False, True):
                    jobs = args.noop_jobs if simple else min(args.noop_jobs, args.noop_fork_jobs)
                    for workers in worker_counts:
                        result = noop_run(workers, simple, jobs, services, workdir, args)
                        noop_results.append(result)
                        print(f"  no-op {result.kind:14} workers={workers}: {result.jobs / result.wall:,.0f} jobs/s",
                              flush=True)
    except BaseException:
        print(f"worker logs kept in {workdir}", file=sys.stderr)
        raise
    shutil.rmtree(workdir, ignore_errors=True)

    print("\n## Engine: 5-step instant workflow\n")
    print(engine_table(engine_results))
    if engine_results:
        print(f"\nChecked after every run: {'; '.join(engine_results[0].checks)}.")
    for r in engine_results:
        if not r.ok:
            print(f"FAILED on {r.db} N={r.size} workers={r.workers}: "
                  f"{', '.join(name for name, ok in r.checks.items() if not ok)}")
    if noop_results:
        print("\n## RQ ceiling: no-op jobs\n")
        print(noop_table(noop_results))
    target = [r for r in engine_results if r.size == 10_000 and r.workers == 2]
    for r in target:
        verdict = "met" if r.wall < 20 and r.logs / r.wall >= 2500 else "MISSED"
        print(f"\nTarget (10,000 contacts < 20 s with 2 workers, >= 2,500 steps/s) on {r.db}: {verdict} "
              f"({r.wall:.1f} s, {r.logs / r.wall:,.0f} steps/s)")
    return 0 if all(r.ok for r in engine_results) else 1


if __name__ == "__main__":
    sys.exit(main())
