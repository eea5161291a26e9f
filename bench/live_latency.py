#!/usr/bin/env python
"""Live event latency: from a manual action's commit to its arrival at every watching Socket.IO client.

    python bench/live_latency.py [--clients 50,200,500] [--events 30] [--db sqlite,postgres]

Per database and client count, three kinds of process, as in production:

- the web app as a real server: `socketio.run` (Werkzeug, threading mode, as
  `make run` serves it) on a free port, with SOCKETIO_MESSAGE_QUEUE = an isolated
  Redis database;
- one long-running `flask --app app worker`, idle and listening;
- listener processes with N python-socketio AsyncClients, every one a manager
  authenticated with an API token (auth={"token": ...}), so every one is in the
  account room and should receive every event.

Then real work, paced so each change is measured alone:

1. created: --events enroll requests (POST /api/workflows/<id>/enroll, one
   contact each) into a workflow `s1 manual_sms -> s2 add_tag`. The worker runs
   s1, commits the action and emits `manual_action.created` through Redis.
2. updated: each action is completed through the REST API (POST
   /api/manual-actions/<id>/complete); the web process commits and emits
   `manual_action.updated`. After the API returns, the benchmark polls the
   database until the parked enrollment has run its next step (the last, so its
   status becomes completed), and reports the run's finished_at minus the action's
   completed_at (both set just before their commits): with many clients the worker
   is often done before the API has returned, which polling alone cannot time.

Latency per event and client: receive time (time.time()) minus the row's
created_at (created) or completed_at (updated) from the payload, naive UTC. Both
are set just before the commit (created_at at the action's flush inside the
worker's pass, completed_at before the web request's commit), so the figures
slightly overstate commit-to-receipt latency.

Redis and databases are isolated as in engine_throughput.py (claimed Redis
database number, fresh SQLite file or PostgreSQL schema per run). Every process
started is stopped at the end of its run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import (  # noqa: E402
    BIN,
    CpuMeter,
    Database,
    Services,
    claimed_redis,
    database_kinds,
    fresh_database,
    process_cpu,
    reset_redis,
)

from tests.workers import accepts, free_port, session_pids  # noqa: E402  (shared process tooling)

ROOT = Path(__file__).resolve().parent.parent
AGENTS = 3
PASSWORD = "bench-password"
KINDS = ("created", "updated")
STAMP = {"created": "created_at", "updated": "completed_at"}

# The web process, as `make run` serves it (builder.devserver), on the isolated Redis.
SERVER = """
import os
from app import create_app
from builder.extensions import socketio
app = create_app({"SOCKETIO_MESSAGE_QUEUE": os.environ["SOCKETIO_MESSAGE_QUEUE"]})
socketio.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), allow_unsafe_werkzeug=True,
             use_reloader=False, log_output=False)
"""

GRAPH: dict[str, Any] = {
    "name": "Bench: text them, then tag",
    "trigger": {"type": "manual", "config": {}},
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi {{ contact.first_name }}"},
               "next": "s2"},
        "s2": {"type": "add_tag", "config": {"tag": "texted"}, "next": None},
    },
}


# --- listener processes (python bench/live_latency.py _listen ...) -------------

async def listen(url: str, tokens: list[str], first: int, out: str, transport: str, concurrency: int) -> None:
    """Connect one AsyncClient per token, record every live event, dump them when stdin says so."""
    import socketio

    records: list[tuple[int, str, int, str | None, float]] = []  # (client, kind, action id, stamp, received)
    counts = [0] * len(tokens)
    disconnects: list[int] = []
    errors: list[str] = []

    def make(i: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        for kind in KINDS:
            def on_event(data: dict[str, Any], kind: str = kind) -> None:
                received = time.time()
                records.append((first + i, kind, data["id"], data.get(STAMP[kind]), received))
            client.on(f"manual_action.{kind}", on_event)

        def on_counts(_data: Any) -> None:
            counts[i] += 1

        client.on("manual_actions.counts", on_counts)
        client.on("disconnect", lambda *_: disconnects.append(first + i))
        return client

    gate = asyncio.Semaphore(concurrency)

    async def connect(i: int, token: str) -> socketio.AsyncClient | None:
        async with gate:
            client = make(i)
            try:
                await client.connect(url, auth={"token": token}, transports=[transport], wait_timeout=30)
            except Exception as exc:  # a refused or timed-out connection is a result, not a crash
                errors.append(f"client {first + i}: {exc!r}")
                return None
            return client

    clients = await asyncio.gather(*(connect(i, t) for i, t in enumerate(tokens)))
    connected = [c for c in clients if c is not None]
    print(f"ready {len(connected)} {len(errors)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    Path(out).write_text(json.dumps({
        "records": records, "counts": counts, "disconnects": disconnects, "errors": errors[:20],
        "connected": len(connected),
    }))
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(*(c.disconnect() for c in connected), return_exceptions=True), 20)


def listener_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True, help="JSON file: a list of API tokens")
    parser.add_argument("--first", type=int, default=0, help="index of the first client (for the report)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--transport", default="websocket")
    parser.add_argument("--concurrency", type=int, default=25)
    args = parser.parse_args(argv)
    tokens = json.loads(Path(args.tokens).read_text())
    asyncio.run(listen(args.url, tokens, args.first, args.out, args.transport, args.concurrency))
    return 0


# --- processes ------------------------------------------------------------------

def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in a session of its own (so a stop reaches the worker's work-horses and scheduler).
    Output goes to a file: an unread pipe fills up and blocks the process."""
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the process's session, SIGKILL to whatever is left after `timeout`."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    for pid in session_pids(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def established(port: int) -> int:
    """Server-side TCP connections in ESTABLISHED state on `port` (IPv4 loopback, from /proc/net/tcp)."""
    count = 0
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return -1
    for line in lines:
        parts = line.split()
        if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "01":
            count += 1
    return count


def threads(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode().strip() if ready else ""


# --- seeding (in this process, with the app) -------------------------------------

@contextlib.contextmanager
def app_with(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from app import create_app
        from builder.extensions import db

        app = create_app({"SOCKETIO_MESSAGE_QUEUE": None})
        with app.app_context():
            yield app, db
            db.session.remove()
            db.engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed(env: dict[str, str], clients: int, contacts: int) -> dict[str, Any]:
    """An account, an admin (who makes the REST calls), agents, `clients` managers with a token each,
    contacts assigned round-robin to the agents, and the published workflow."""
    from sqlalchemy import insert, select

    from builder.domain.users import create_user
    from builder.domain.workflows import create_workflow
    from builder.models import Account, ApiToken, Contact, User, utcnow

    with app_with(env) as (_app, db):
        db.create_all()
        account = Account(name="Bench", quiet_hours_enabled=False)
        db.session.add(account)
        db.session.commit()
        admin = create_user("admin@bench.test", "admin", PASSWORD, "Admin", account)
        agents = [create_user(f"agent{i}@bench.test", "agent", PASSWORD, f"Agent {i}", account)
                  for i in range(AGENTS)]
        now = utcnow()
        db.session.execute(insert(User), [  # one password hash for all: hashing 500 would take minutes
            {"account_id": account.id, "email": f"manager{i}@bench.test", "role": "manager", "name": f"Manager {i}",
             "password_hash": admin.password_hash, "active": True, "created_at": now}
            for i in range(clients)
        ])
        managers = db.session.scalars(select(User).where(User.role == "manager").order_by(User.id)).all()
        tokens = []
        admin_token, secret = ApiToken.issue(admin)
        db.session.add(admin_token)
        for user in managers:
            token, manager_secret = ApiToken.issue(user)
            db.session.add(token)
            tokens.append(manager_secret)
        db.session.execute(insert(Contact), [
            {"account_id": account.id, "first_name": f"Contact{i}", "last_name": "Bench",
             "phone": f"+1415555{i:04d}", "timezone": "UTC", "custom_fields": {},
             "assigned_user_id": agents[i % AGENTS].id, "created_at": now, "updated_at": now}
            for i in range(contacts)
        ])
        workflow = create_workflow(account.id, GRAPH)
        db.session.commit()
        contact_ids = list(db.session.scalars(select(Contact.id).order_by(Contact.id)))
        return {"admin_token": secret, "tokens": tokens, "workflow_id": workflow.id, "contact_ids": contact_ids}


# --- one run --------------------------------------------------------------------

@dataclass
class RunResult:
    db: str
    clients: int
    web_procs: int = 1
    connected: int = 0
    connect_errors: int = 0
    connect_s: float = 0.0
    server_conns: int = 0
    server_conns_end: int = 0
    server_threads: int = 0
    disconnects: int = 0
    events: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})  # ms
    # Per event: the first client's latency, and the spread from the first client to the last (the fan-out).
    first_ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    spread_ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    delivered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    expected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    duplicates: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    counts_events: int = 0
    complete_ms: list[float] = field(default_factory=list)  # the complete request, as the caller sees it
    resume_ms: list[float] = field(default_factory=list)  # completion's commit -> the run's next step committed
    done_before_return: int = 0  # runs already moved on when the complete request returned
    busy: float = 0.0
    server_cpu: float = 0.0
    listener_cpu: float = 0.0
    load: float = 0.0
    notes: list[str] = field(default_factory=list)


def stamp_seconds(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def db_seconds(value: str | datetime) -> float:
    """A naive UTC time as the database driver returns it (SQLite: text; psycopg: datetime)."""
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=UTC).timestamp()


def one_run(kind: str, clients: int, services: Services, workdir: Path, args) -> RunResult:
    import requests

    result = RunResult(kind, clients, args.web_procs)
    reset_redis(services.redis_url)
    database: Database = fresh_database(kind, services, workdir)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database.url, "REDIS_URL": services.redis_url, "RQ_QUEUE": queue,
           "SOCKETIO_MESSAGE_QUEUE": services.redis_url}
    for name in ("FLASK_DEBUG", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)
    warmup = 2
    seeded = seed(env, clients, args.events + warmup)
    ports = [free_port() for _ in range(args.web_procs)]
    port, base = ports[0], f"http://127.0.0.1:{ports[0]}"  # REST calls go to the first web process
    procs: list[subprocess.Popen] = []
    listeners: list[tuple[subprocess.Popen, Path]] = []
    conn = None
    try:
        servers = [spawn([sys.executable, "-c", SERVER], {**env, "PORT": str(p)}, workdir / f"web-{p}.log")
                   for p in ports]
        procs.extend(servers)
        server_pids = [s.pid for s in servers]
        worker = spawn([str(BIN / "flask"), "--app", "app", "worker"], env, workdir / f"worker-{port}.log")
        procs.append(worker)
        for p, server in zip(ports, servers, strict=True):
            def up(p: int = p, server: subprocess.Popen = server) -> bool:
                return accepts(p) or server.poll() is not None

            if not wait_until(up, 60) or server.poll() is not None:
                raise SystemExit(f"the web server did not start; see {workdir}/web-{p}.log")
        from redis import Redis
        from rq import Queue, Worker

        if not wait_until(lambda: Worker.count(queue=Queue(queue, connection=Redis.from_url(services.redis_url))) > 0
                          or worker.poll() is not None, 60) or worker.poll() is not None:
            raise SystemExit(f"the worker did not start; see {workdir}/worker-{port}.log")

        # Listeners: clients split over --client-procs processes (at least one per web process); listener p
        # connects to web process p mod --web-procs, as a load balancer would spread websockets.
        tokens = seeded["tokens"]
        client_procs = max(args.client_procs, args.web_procs)
        per = -(-clients // client_procs)
        started = time.perf_counter()
        for p in range(client_procs):
            chunk = tokens[p * per:(p + 1) * per]
            if not chunk:
                continue
            token_file, out = workdir / f"tokens-{port}-{p}.json", workdir / f"events-{port}-{p}.json"
            token_file.write_text(json.dumps(chunk))
            url = f"http://127.0.0.1:{ports[p % len(ports)]}"
            cmd = [sys.executable, __file__, "_listen", "--url", url, "--tokens", str(token_file),
                   "--first", str(p * per), "--out", str(out), "--transport", args.transport]
            with open(workdir / f"listener-{port}-{p}.log", "wb") as log:
                proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=log)
            procs.append(proc)
            listeners.append((proc, out))
        for proc, _ in listeners:
            line = read_line(proc, args.connect_timeout)
            if not line.startswith("ready "):
                raise SystemExit(f"a listener did not connect its clients in {args.connect_timeout}s: {line!r}")
            ok, failed = (int(x) for x in line.split()[1:3])
            result.connected += ok
            result.connect_errors += failed
        result.connect_s = time.perf_counter() - started
        time.sleep(0.5)
        result.server_conns = sum(established(p) for p in ports)
        result.server_threads = sum(threads(pid) for pid in server_pids)

        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {seeded['admin_token']}"
        conn = database.connect()
        wf, contact_ids = seeded["workflow_id"], seeded["contact_ids"]

        def actions_created() -> int:
            return conn.execute("SELECT count(*) FROM manual_actions").fetchone()[0]

        def enroll(contact_id: int) -> None:
            resp = http.post(f"{base}/api/workflows/{wf}/enroll", json={"contact_ids": [contact_id]}, timeout=30)
            assert resp.status_code == 202, resp.text

        def complete(action_id: int, enrollment_id: int, measure: bool) -> None:
            t0 = time.perf_counter()
            resp = http.post(f"{base}/api/manual-actions/{action_id}/complete", json={"message": "Hello from bench"},
                             timeout=30)
            t1 = time.perf_counter()
            assert resp.status_code == 200 and resp.json()["status"] == "completed", resp.text
            query = f"SELECT status FROM enrollments WHERE id = {int(enrollment_id)}"
            already = conn.execute(query).fetchone()[0] == "completed"
            moved = already or wait_until(lambda: conn.execute(query).fetchone()[0] == "completed", 10, interval=0.002)
            if not measure:
                return
            result.complete_ms.append((t1 - t0) * 1000)
            if not moved:
                result.notes.append(f"enrollment {enrollment_id} had not moved on 10 s after its completion")
                return
            # The run's next step is its last: finished_at is set just before the worker's commit. Against the
            # action's completed_at (set just before the request's commit); polling alone could not tell how
            # long before the API returned the worker was done (with many clients it often is).
            done, completed = conn.execute(
                "SELECT e.finished_at, a.completed_at FROM enrollments e JOIN manual_actions a "
                f"ON a.enrollment_id = e.id WHERE a.id = {int(action_id)}").fetchone()
            result.resume_ms.append((db_seconds(done) - db_seconds(completed)) * 1000)
            result.done_before_return += already

        # Warm-up (the worker's first fork and emitter, the server's first requests): not measured.
        for contact_id in contact_ids[:warmup]:
            enroll(contact_id)
        if not wait_until(lambda: actions_created() >= warmup, 30):
            raise SystemExit("warm-up enrollments created no manual actions")
        warm_rows = conn.execute("SELECT id, enrollment_id FROM manual_actions ORDER BY id").fetchall()
        for action_id, enrollment_id in warm_rows:
            complete(action_id, enrollment_id, measure=False)
        time.sleep(1)

        listener_pids = [proc.pid for proc, _ in listeners]
        result.load = os.getloadavg()[0]
        meter, cpu0, lcpu0 = CpuMeter(), process_cpu(server_pids), process_cpu(listener_pids)
        # 1. created: the worker commits and emits through Redis.
        for contact_id in contact_ids[warmup:]:
            slot = time.perf_counter() + args.interval
            enroll(contact_id)
            time.sleep(max(0.0, slot - time.perf_counter()))
        if not wait_until(lambda: actions_created() >= warmup + args.events, 60):
            result.notes.append(f"only {actions_created() - warmup} of {args.events} actions were created")
        rows = conn.execute("SELECT id, enrollment_id FROM manual_actions ORDER BY id").fetchall()[warmup:]
        time.sleep(args.settle)
        # 2. updated: the web process commits and emits; the worker resumes the run.
        for action_id, enrollment_id in rows:
            slot = time.perf_counter() + args.interval
            complete(action_id, enrollment_id, measure=True)
            time.sleep(max(0.0, slot - time.perf_counter()))
        time.sleep(args.settle)
        result.busy, result.server_cpu = meter.machine_share(), process_cpu(server_pids) - cpu0
        result.listener_cpu = process_cpu(listener_pids) - lcpu0
        result.server_conns_end = sum(established(p) for p in ports)

        # Collect what the clients received.
        measured = {action_id for action_id, _ in rows}
        result.events = len(measured)
        received: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))  # (kind, client)
        per_event: dict[tuple[str, int], list[float]] = defaultdict(list)
        for proc, _ in listeners:
            proc.stdin.write(b"dump\n")
            proc.stdin.flush()
        for proc, out in listeners:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
            if not out.exists():
                raise SystemExit(f"a listener wrote no results; see {workdir}/listener-{port}-*.log")
            data = json.loads(out.read_text())
            result.counts_events += sum(data["counts"])
            result.disconnects += len(data["disconnects"])
            result.notes.extend(data["errors"])
            for client, event, action_id, stamp, when in data["records"]:
                if action_id not in measured:
                    continue
                received[(event, client)][action_id] += 1
                if stamp:
                    ms = (when - stamp_seconds(stamp)) * 1000
                    result.latencies[event].append(ms)
                    per_event[(event, action_id)].append(ms)
        for (event, _), values in per_event.items():
            result.first_ms[event].append(min(values))
            result.spread_ms[event].append(max(values) - min(values))
        for event in KINDS:
            result.expected[event] = len(measured) * clients
            for client in range(clients):
                got = received.get((event, client), {})
                result.delivered[event] += len(got)
                result.duplicates[event] += sum(n - 1 for n in got.values())
        return result
    finally:
        for proc in reversed(procs):
            stop(proc)
        if conn is not None:
            conn.close()
        database.cleanup()


# --- report ---------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_table(results: list[RunResult]) -> str:
    lines = [
        "| DB | web procs | clients | event | events × clients | delivered | lost | p50 ms | p99 ms | max ms "
        "| first client p50 / p99 ms | fan-out p50 / p99 ms |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for event in KINDS:
            ms = r.latencies[event]
            lost = r.expected[event] - r.delivered[event]
            lines.append(
                f"| {r.db} | {r.web_procs} | {r.clients} | {event} | {r.expected[event]:,} | "
                f"{r.delivered[event]:,} | {lost:,} | "
                f"{statistics.median(ms) if ms else float('nan'):.1f} | {pct(ms, 0.99):.1f} | "
                f"{max(ms) if ms else float('nan'):.1f} | "
                f"{pct(r.first_ms[event], 0.5):.1f} / {pct(r.first_ms[event], 0.99):.1f} | "
                f"{pct(r.spread_ms[event], 0.5):.1f} / {pct(r.spread_ms[event], 0.99):.1f} |"
            )
    return "\n".join(lines)


def server_table(results: list[RunResult]) -> str:
    lines = [
        "| DB | web procs | clients | connected | connect s | server conns start / end | server threads | disconnects "
        "| server CPU s | listeners CPU s | machine busy | load average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.db} | {r.web_procs} | {r.clients} | "
            f"{r.connected}{f' ({r.connect_errors} refused)' if r.connect_errors else ''} | "
            f"{r.connect_s:.1f} | {r.server_conns} / {r.server_conns_end} | {r.server_threads} | {r.disconnects} | "
            f"{r.server_cpu:.1f} | {r.listener_cpu:.1f} | {r.busy:.0%} | {r.load:.1f} |"
        )
    return "\n".join(lines)


def resume_table(results: list[RunResult]) -> str:
    lines = [
        "| DB | web procs | clients | completions | complete request p50 / p99 ms "
        "| commit to next step done p50 / p99 / max ms "
        "| done before the API returned |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c, m = r.complete_ms, r.resume_ms
        lines.append(
            f"| {r.db} | {r.web_procs} | {r.clients} | {len(m)} | {pct(c, 0.5):.0f} / {pct(c, 0.99):.0f} | "
            f"{pct(m, 0.5):.0f} / {pct(m, 0.99):.0f} / {max(m) if m else float('nan'):.0f} | "
            f"{r.done_before_return} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_listen"]:
        return listener_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="50,200,500", help="client counts, comma-separated")
    parser.add_argument("--events", type=int, default=100, help="actions created, then completed, per run")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between two changes")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait for the last events")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--web-procs", type=int, default=1,
                        help="web processes sharing the Redis message queue; clients are spread over them")
    parser.add_argument("--client-procs", type=int, default=2, help="listener processes the clients are split over")
    parser.add_argument("--transport", choices=["websocket", "polling"], default="websocket")
    parser.add_argument("--connect-timeout", type=float, default=180)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench")
    args = parser.parse_args(argv)

    client_counts = [int(x) for x in args.clients.split(",") if x.strip()]
    kinds = database_kinds(args)
    results: list[RunResult] = []
    started = time.perf_counter()
    with claimed_redis(args.redis, args.redis_db) as redis_url, \
            tempfile.TemporaryDirectory(prefix="flowdesk-live-") as tmp:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        print(f"# flowdesk live event latency ({os.cpu_count()} CPUs, Redis {redis_url}, {args.events} actions "
              f"per run, one change every {args.interval:g} s, clients over {args.client_procs} listener "
              f"process(es), {args.web_procs} web process(es), transport {args.transport}, "
              f"load average {os.getloadavg()[0]:.1f})\n", flush=True)
        for kind in kinds:
            for clients in client_counts:
                result = one_run(kind, clients, services, Path(tmp), args)
                results.append(result)
                r99 = {e: pct(result.latencies[e], 0.99) for e in KINDS}
                print(f"{kind} {clients} clients: created p99 {r99['created']:.1f} ms, updated p99 "
                      f"{r99['updated']:.1f} ms, lost {sum(result.expected.values()) - sum(result.delivered.values())}"
                      f", next step p50 {pct(result.resume_ms, 0.5):.0f} ms", flush=True)
    print("\n## Commit to receipt, per event and client\n")
    print(latency_table(results))
    print("\n## Connections and load (during the measured phases)\n")
    print(server_table(results))
    print("\n## Completing an action: the request, and the parked run's next step (worker idle)\n")
    print(resume_table(results))
    notes = [f"- {r.db} {r.clients}: {n}" for r in results for n in r.notes[:5]]
    dups = [f"- {r.db} {r.clients}: {r.duplicates[e]} duplicate {e} events" for r in results for e in KINDS
            if r.duplicates[e]]
    if notes or dups:
        print("\n## Problems\n")
        print("\n".join(notes + dups))
    print(f"\nTotal time {time.perf_counter() - started:.0f} s, load average now {os.getloadavg()[0]:.1f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
