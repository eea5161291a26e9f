"""Event-started runs against bulk-started ones: N contacts, each started by its own event.

A benchmark, not a test. The same 5-step workflow as engine_throughput.py, but every contact is
started by its own event, sent over HTTP to the production web server (gunicorn, gthread, 2
processes) at bounded concurrency:

  webhook  POST /hooks/workflows/<id>/<secret> {"phone": ...}   (the inbound-webhook trigger)
  tag      PATCH /api/contacts/<id> {"tags": ["go"]}             (a contact_tag_added trigger)

Long-running workers are listening before the first event. For each run it reports how fast the
web side accepted the events, the time until every run has finished, runs/s, step executions/s,
worker CPU per run, and the same figures for one bulk enroll request in the same sitting (the
ratio the targets are about).

    .venv/bin/python bench/event_throughput.py [--sizes 1000] [--workers 1,2] [--db sqlite,postgres]
        [--events webhook,tag] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import (  # noqa: E402
    GRAPH,
    ROOT,
    STEPS_PER_CONTACT,
    Services,
    app_for,
    bench_env,
    claimed_redis,
    csv_ints,
    database_kinds,
    engine_run,
    failed_jobs,
    fresh_database,
    process_cpu,
    reset_redis,
    scalar,
    seed,
    start_workers,
    stop_workers,
    verify,
    wait_registered,
)

TRIGGERS = {
    "webhook": {"type": "inbound_webhook", "config": {"field_map": {"phone": "phone"}}},
    "tag": {"type": "contact_tag_added", "config": {"tag": "go"}},
}
SECRET_KEY = "bench-secret-key"


@dataclass
class EventResult:
    db: str
    event: str
    size: int
    workers: int
    send_s: float  # first request sent -> last response received
    wall_s: float  # first request sent -> every run completed
    worker_cpu: float
    errors: int  # responses that were not 2xx
    ok: bool

    @property
    def accepted_per_s(self) -> float:
        return self.size / self.send_s

    @property
    def runs_per_s(self) -> float:
        return self.size / self.wall_s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(env: dict[str, str], port: int, logdir: Path) -> subprocess.Popen:
    """The production web server, as `make run` and the README's production command start it."""
    web_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    with open(logdir / f"web-{port}.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:builder.server.gunicorn_conf", "app:create_app()"],
            cwd=ROOT, env=web_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"the web server did not start; see {logdir}")


def stop_web(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def seed_events(size: int, event: str) -> tuple[list[tuple[str, str, dict]], str]:
    """The contacts and the event-triggered workflow; returns each contact's request and an API token."""
    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import ApiToken, Contact, Role, User
    from builder.web.workflow_hooks import hook_secret

    manual, _, ids = seed(size)  # the contacts, and the bulk path's workflow (manual trigger: events skip it)
    graph = {**GRAPH, "name": f"Bench: on {event}", "trigger": TRIGGERS[event],
             "steps": {**GRAPH["steps"], "s1": manual.published_version.graph["steps"]["s1"]}}
    workflow = create_workflow(manual.account_id, graph)
    manager = User(account_id=manual.account_id, email="manager@bench.test", name="Manager", role=Role.MANAGER)
    db.session.add(manager)
    db.session.flush()
    token, secret = ApiToken.issue(manager)
    db.session.add(token)
    db.session.commit()
    if event == "webhook":
        path = f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}"
        phones = dict(db.session.query(Contact.id, Contact.phone).filter(Contact.id.in_(ids)).all())
        return [("POST", path, {"phone": phones[cid]}) for cid in ids], secret
    return [("PATCH", f"/api/contacts/{cid}", {"tags": ["go"]}) for cid in ids], secret


def send_all(base: str, calls: list[tuple[str, str, dict]], token: str, concurrency: int) -> int:
    """Send every request, `concurrency` at a time; the number that did not answer 2xx."""
    errors = 0
    lock = threading.Lock()
    position = iter(range(len(calls)))

    def worker() -> None:
        nonlocal errors
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            method, path, body = calls[index]
            response = session.request(method, base + path, json=body, timeout=60)
            if not 200 <= response.status_code < 300:
                with lock:
                    errors += 1
                    if errors <= 3:
                        print(f"  {method} {path}: {response.status_code} {response.text[:200]}", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def event_run(kind: str, event: str, size: int, workers: int, services: Services, workdir: Path,
              args) -> EventResult:
    reset_redis(services.redis_url)
    db = fresh_database(kind, services, workdir)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = bench_env(db, services, queue, {"SECRET_KEY": SECRET_KEY})
    procs: list[subprocess.Popen] = []
    web = None
    conn = None
    try:
        with app_for(env):
            from builder.extensions import db as app_db

            calls, token = seed_events(size, event)
            app_db.session.remove()
        conn = db.connect()
        port = free_port()
        web = start_web(env, port, workdir)
        procs = start_workers(workers, env, workdir, simple=False, burst=False)
        wait_registered(procs, services.redis_url, queue)
        warm_cpu = process_cpu([p.pid for p in procs])
        started = time.perf_counter()
        errors = send_all(f"http://127.0.0.1:{port}", calls, token, args.concurrency)
        send_s = time.perf_counter() - started
        deadline = started + args.timeout
        while scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'completed'") < size - errors:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{kind} {event} N={size} w={workers}: not every run completed in {args.timeout}s")
            time.sleep(args.poll)
        wall_s = time.perf_counter() - started
        time.sleep(0.5)  # let the last work-horse exit and be counted
        worker_cpu = process_cpu([p.pid for p in procs]) - warm_cpu
        stop_workers(procs, terminate=True)
        checks = verify(conn, size, failed_jobs(services.redis_url, queue))
        checks.pop("rotation even", None)  # events reach the workers in no fixed order
        if event == "tag":  # the event's own tag is a second row per contact
            checks["one tag row each"] = all(scalar(conn, f"SELECT count(*) FROM contact_tags WHERE tag = '{tag}'")
                                             == size for tag in ("go", "bench"))
        return EventResult(kind, event, size, workers, send_s, wall_s, worker_cpu, errors,
                           ok=all(checks.values()) and errors == 0)
    finally:
        if web is not None:
            stop_web(web)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        if conn is not None:
            conn.close()
        db.cleanup()


def table(events: list[EventResult], bulk: dict[tuple[str, int, int], tuple[float, float]]) -> str:
    lines = [
        "| DB | event | contacts | workers | accepted/s | wall s | runs/s | steps/s | worker CPU ms/run "
        "| bulk runs/s | bulk CPU ms/run | event/bulk runs/s | correct |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in events:
        bulk_wall, bulk_cpu = bulk.get((r.db, r.size, r.workers), (float("nan"), float("nan")))
        bulk_rate = r.size / bulk_wall
        lines.append(
            f"| {r.db} | {r.event} | {r.size:,} | {r.workers} | {r.accepted_per_s:,.0f} | {r.wall_s:.2f} "
            f"| {r.runs_per_s:,.1f} | {r.runs_per_s * STEPS_PER_CONTACT:,.0f} | {1000 * r.worker_cpu / r.size:.1f} "
            f"| {bulk_rate:,.0f} | {1000 * bulk_cpu / r.size:.1f} | {r.runs_per_s / bulk_rate:.1%} "
            f"| {'yes' if r.ok else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="contacts per run, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker process counts, comma-separated")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--events", default="webhook,tag", help="webhook, tag or both")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench",
                        help="PostgreSQL database to create run schemas in (created if missing)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between completion polls")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is given up")
    args = parser.parse_args(argv)
    # What engine_run reads: the bulk path with warm workers, like the event runs.
    args.start, args.simple, args.chunk_size, args.txn_size = "before", False, None, None

    kinds = database_kinds(args)
    event_kinds = [e.strip() for e in args.events.split(",") if e.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-events-"))
    results: list[EventResult] = []
    bulk: dict[tuple[str, int, int], tuple[float, float]] = {}
    with claimed_redis(args.redis, args.redis_db) as redis_url:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        print(f"# flowdesk event-started runs ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"{args.concurrency} requests in flight, gunicorn gthread x 2 processes, forking workers)\n", flush=True)
        for kind in kinds:
            for size in csv_ints(args.sizes):
                for workers in csv_ints(args.workers):
                    b = engine_run(kind, size, workers, services, workdir, args)
                    bulk[(kind, size, workers)] = (b.wall, b.worker_cpu)
                    print(f"  bulk    {kind:8} N={size} workers={workers}: {b.wall:.2f} s", flush=True)
                    for event in event_kinds:
                        r = event_run(kind, event, size, workers, services, workdir, args)
                        results.append(r)
                        print(f"  {event:7} {kind:8} N={size} workers={workers}: accepted {r.accepted_per_s:,.0f}/s, "
                              f"all done in {r.wall_s:.2f} s ({r.runs_per_s:,.1f} runs/s)", flush=True)
    print("\n## Event-started runs against the bulk path, same sitting\n")
    print(table(results, bulk))
    print(f"\nLoad average now {os.getloadavg()[0]:.1f}; worker logs in {workdir}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
