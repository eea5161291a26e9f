#!/usr/bin/env python
"""Resume latency: from an agent completing a manual action to the parked run's next step committing.

A benchmark, not a test. Per database and worker count, with the production web server (gunicorn,
gthread, 2 processes, as event_throughput.py starts it) and long-running `flask --app app worker`
processes:

- seed: the 5-step bench workflow of engine_throughput.py with --busy-contacts contacts (the load),
  an agent with an API token, and one contact per completion assigned to the agent, enrolled (one
  POST /api/workflows/<id>/enroll, before anything is measured) into

      m manual_call (or manual_sms, --action sms) -> t add_tag "resumed" -> e end

  so every run is parked on its own queued action;
- idle: --completions completions, one at a time with the workers idle: POST
  /api/manual-actions/<id>/complete with the agent's bearer token, then --interval seconds;
- busy: --completions more while the same workers run a bulk enrollment of --busy-contacts
  contacts into the 5-step workflow (POST /api/workflows/<id>/enroll; a copy with re-entry allowed);
  when it has no work left, the same contacts are enrolled again (a new request, a new round). The
  completions are sent one every --busy-interval seconds (0.25), each on its own, without waiting
  for the last one's run to move on: with a first-in-first-out queue a resume can wait for the whole
  backlog, and one-at-a-time would give one completion per round. A completion counts when the load
  still had work left (a request not fully batched, or a run not finished) in the snapshot in which
  its commit was first seen; the others (between two rounds) are discarded and counted.

What is timed, per completion: from the completion's commit to the commit of the run's next step
(the execution log row of `t`, written in the worker's transaction that runs the step). One poller,
this process, queries the database every --poll seconds (1 ms) from just before the request is sent,
one statement per poll (one snapshot, autocommit): which of the actions in flight are completed,
which of their runs have `t` logged, and (busy) the load's work left. A commit happened between the
start of the last query that did not see it and the start of the first that did; each end is placed
in the middle of its window, so each is off by at most half the window (printed: "poll window", the
wider of the two; about 1-3 ms at --poll 0.001), and both ends are seen the same way.
As a cross-check, the rows' own stamps: `t`'s log finished_at minus the action's completed_at; both
are set in Python a little before their transaction commits (the rest of the request; the rest of
the worker's pass), so they bracket the same interval with the same kind of bias.

It uses only the public HTTP API, the worker command and the database (reads), so it keeps
working whatever the worker and the web endpoints do inside.

    .venv/bin/python bench/resume_latency.py [--completions 200] [--workers 1,2] [--db sqlite,postgres]
        [--busy-contacts 5000] [--busy-interval 0.25] [--action call|sms] [--interval 0.2] [--poll 0.001]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import (  # noqa: E402
    GRAPH,
    STEPS_PER_CONTACT,
    CpuMeter,
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
    seed,
    start_workers,
    stop_workers,
    wait_registered,
)
from event_throughput import SECRET_KEY, free_port, start_web, stop_web, wait_quiet  # noqa: E402

NEXT_STEP = "t"
WARMUP = 2  # completions before the idle phase, not measured (first fork, first requests)
COMPLETE_BODY = {"call": {"outcome": "answered", "notes": "Resume latency bench"},
                 "sms": {"message": "Hello from the resume latency bench"}}


def latency_graph(action: str) -> dict[str, Any]:
    manual = {"type": f"manual_{action}", "name": "Bench: call them" if action == "call" else "Bench: text them",
              "config": {"message": "Hi {{ contact.first_name }}"} if action == "sms" else {}, "next": NEXT_STEP}
    return {
        "name": f"Bench: manual {action}, then tag",
        "trigger": {"type": "manual", "config": {}},
        "start": "m",
        "steps": {
            "m": manual,
            NEXT_STEP: {"type": "add_tag", "config": {"tag": "resumed"}, "next": "e"},
            "e": {"type": "end", "config": {}, "next": None},
        },
    }


# --- seeding (in this process, with the app) ---------------------------------------

@dataclass
class Seeded:
    agent_token: str  # completes the actions (they are assigned to this agent)
    manager_token: str  # the enroll requests
    latency_workflow: int
    latency_contacts: list[int]
    bulk_workflow: int
    bulk_contacts: list[int]


def seed_all(busy_contacts: int, latency_contacts: int, action: str) -> Seeded:
    from sqlalchemy import insert, select

    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import ApiToken, Contact, Role, User, utcnow

    bulk, _, bulk_ids = seed(busy_contacts)  # account, 3 agents, the load's contacts, the 5-step workflow
    account_id = bulk.account_id
    # The load: the same 5 steps, with re-entry on, so each round can enroll the same contacts again.
    steps = {**GRAPH["steps"], "s1": bulk.published_version.graph["steps"]["s1"]}
    load = create_workflow(account_id, {**GRAPH, "name": "Bench: load, 5 instant steps", "steps": steps,
                                         "settings": {"allow_reentry": True}})
    agent = db.session.scalars(select(User).where(User.account_id == account_id, User.role == Role.AGENT)
                               .order_by(User.id)).first()
    manager = User(account_id=account_id, email="manager@bench.test", name="Manager", role=Role.MANAGER)
    db.session.add(manager)
    db.session.flush()
    agent_row, agent_secret = ApiToken.issue(agent)
    manager_row, manager_secret = ApiToken.issue(manager)
    db.session.add_all([agent_row, manager_row])
    now = utcnow()
    first = db.session.scalar(select(Contact.id).order_by(Contact.id.desc()).limit(1)) or 0
    db.session.execute(insert(Contact), [
        {"account_id": account_id, "first_name": f"Waiting{i}", "last_name": "Bench",
         "phone": f"+1415{3_000_000 + i:07d}", "timezone": "UTC", "custom_fields": {},
         "assigned_user_id": agent.id, "created_at": now, "updated_at": now}
        for i in range(latency_contacts)
    ])
    workflow = create_workflow(account_id, latency_graph(action))
    db.session.commit()
    ids = list(db.session.scalars(select(Contact.id).where(Contact.id > first).order_by(Contact.id)))
    return Seeded(agent_secret, manager_secret, workflow.id, ids, load.id, bulk_ids)


# --- completions and the poller ---------------------------------------------------

@dataclass
class Sample:
    latency_ms: float  # completion's commit -> next step's commit, both seen by the poller
    window_ms: float  # the wider of the two windows the ends were placed in (error: about half of it)
    stamp_ms: float  # next step's log finished_at - the action's completed_at (server stamps)
    request_ms: float  # the complete request as the agent's client sees it
    load_left: int  # busy: load work left (requests not batched + runs not finished) when the commit was seen


@dataclass
class Completion:
    action_id: int
    enrollment_id: int
    fired: float  # perf_counter just before the request was sent
    committed: tuple[float, float] | None = None  # window the action's commit was seen in
    stepped: tuple[float, float] | None = None  # window the next step's commit was seen in
    load_left: int = 0
    status: int | None = None  # the complete request's HTTP status (None: still in flight)
    request_ms: float = 0.0
    error: str = ""


def db_seconds(value: str | datetime) -> float:
    """A naive UTC time as the driver returns it (SQLite: text; psycopg: datetime)."""
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=UTC).timestamp()


def id_list(ids) -> str:
    return ", ".join(str(int(i)) for i in ids)


class Completer:
    """Sends completions (each in a thread of a small pool, with the agent's token) and watches the
    database for both commits of every completion in flight, with one statement per poll (one
    snapshot): the actions seen completed, the runs whose next step is logged, and the load left."""

    def __init__(self, base: str, agent_token: str, conn, actions, body: dict[str, Any], args,
                 load_left_sql: str | None = None):
        self.base, self.conn, self.actions, self.body, self.args = base, conn, actions, body, args
        self.load_left_sql = load_left_sql
        self.local = threading.local()
        self.token = agent_token
        self.pool = ThreadPoolExecutor(max_workers=8)
        self.pending: dict[int, Completion] = {}  # by action id
        self.previous_poll = time.perf_counter()
        self.load_left = 0

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.token}"
        return self.local.session

    def fire(self) -> Completion:
        try:
            action_id, enrollment_id = next(self.actions)
        except StopIteration:
            raise SystemExit("ran out of parked runs (raise --max-rounds)") from None
        item = Completion(action_id, enrollment_id, time.perf_counter())
        self.pending[action_id] = item

        def call() -> None:
            sent = time.perf_counter()
            try:
                response = self._session().post(f"{self.base}/api/manual-actions/{action_id}/complete",
                                                json=self.body, timeout=60)
                item.error = "" if response.status_code == 200 else response.text[:200]
                item.status = response.status_code
            except requests.RequestException as exc:
                item.error, item.status = repr(exc), 0
            item.request_ms = (time.perf_counter() - sent) * 1000

        self.pool.submit(call)
        return item

    def poll(self) -> list[Completion]:
        """One look at the database; returns the completions whose next step has now committed, or
        that failed (status not 200, or not moved on within --timeout)."""
        waiting_commit = [c.action_id for c in self.pending.values() if c.committed is None]
        parts = []
        if waiting_commit:
            parts.append(f"SELECT 'a', id FROM manual_actions WHERE status = 'completed' "
                         f"AND id IN ({id_list(waiting_commit)})")
        waiting_step = [c.enrollment_id for c in self.pending.values() if c.stepped is None]
        if waiting_step:
            parts.append(f"SELECT 'l', enrollment_id FROM execution_logs WHERE step_id = '{NEXT_STEP}' "
                         f"AND enrollment_id IN ({id_list(waiting_step)})")
        if self.load_left_sql:
            parts.append(f"SELECT 'b', ({self.load_left_sql})")
        started = time.perf_counter()
        rows = self.conn.execute(" UNION ALL ".join(parts)).fetchall() if parts else []
        by_run = {c.enrollment_id: c for c in self.pending.values() if c.stepped is None}
        for what, value in rows:
            if what == "b":
                self.load_left = int(value)
        finished = []
        for what, value in rows:
            if what == "a" and value in self.pending:
                item = self.pending[value]
                item.committed = (max(self.previous_poll, item.fired), started)
                item.load_left = self.load_left
            elif what == "l" and value in by_run:
                item = by_run[value]
                item.stepped = (max(self.previous_poll, item.fired), started)
                item.committed = item.committed or item.stepped  # both in one window
                if item.committed is item.stepped:
                    item.load_left = self.load_left
        for item in list(self.pending.values()):
            failed = item.status not in (None, 200) or started - item.fired > self.args.timeout
            if (item.stepped is not None and item.status is not None) or failed:
                finished.append(self.pending.pop(item.action_id))
        self.previous_poll = started
        return finished

    def sample(self, item: Completion) -> Sample | None:
        if item.status != 200 or item.stepped is None or item.committed is None:
            what = item.error or f"its run had not moved on {self.args.timeout:.0f} s after the completion"
            print(f"  action {item.action_id}: {item.status} {what}", flush=True)
            return None
        completed_at, finished_at = self.conn.execute(
            f"SELECT a.completed_at, l.finished_at FROM manual_actions a JOIN execution_logs l "
            f"ON l.enrollment_id = a.enrollment_id AND l.step_id = '{NEXT_STEP}' WHERE a.id = {int(item.action_id)}"
        ).fetchone()
        middle = lambda window: (window[0] + window[1]) / 2  # noqa: E731
        return Sample(
            latency_ms=(middle(item.stepped) - middle(item.committed)) * 1000,
            window_ms=max(item.stepped[1] - item.stepped[0], item.committed[1] - item.committed[0]) * 1000,
            stamp_ms=(db_seconds(finished_at) - db_seconds(completed_at)) * 1000,
            request_ms=item.request_ms, load_left=item.load_left,
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True)


# --- one run ----------------------------------------------------------------------

@dataclass
class PhaseResult:
    db: str
    workers: int
    phase: str  # idle, busy
    samples: list[Sample] = field(default_factory=list)
    lost: int = 0  # completions that did not answer 200, or whose run had not moved on in time
    discarded: int = 0  # busy: committed when the load had no work left
    rounds: int = 0  # busy: bulk enroll requests
    bulk_runs_per_s: float = 0.0  # busy: the load's pace while the completions ran
    busy: float = 0.0  # share of the machine's CPU in use during the phase
    seconds: float = 0.0
    worker_cpu: float = 0.0  # CPU seconds of the workers and their work-horses during the phase
    bench_cpu: float = 0.0  # CPU seconds of this process (the poller, the HTTP clients) during the phase


@dataclass
class RunResult:
    phases: list[PhaseResult]
    checks: dict[str, bool]

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def wait_for(predicate, timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {timeout}s")
        time.sleep(poll)


def idle_phase(phase: PhaseResult, completer: Completer, count: int, args) -> None:
    """One completion at a time: the next only --interval after the last one's run moved on."""
    fired = 0
    next_fire = time.perf_counter()
    while fired < count or completer.pending:
        if not completer.pending and fired < count and time.perf_counter() >= next_fire:
            completer.fire()
            fired += 1
        for item in completer.poll():
            sample = completer.sample(item)
            if phase.phase == "warm-up":
                pass
            elif sample is None:
                phase.lost += 1
                if phase.lost >= 5:
                    raise SystemExit(f"{phase.phase}: 5 completions lost; see the web and worker logs")
            else:
                phase.samples.append(sample)
            next_fire = time.perf_counter() + args.interval  # the work-horse exits; the worker is idle again
        time.sleep(args.poll)


def busy_phase(phase: PhaseResult, completer: Completer, count: int, start_round, args) -> None:
    """Completions every --busy-interval seconds (not waiting for the last one's run) while the load
    has work left; a new round of the load whenever it has none, until `count` completions were
    committed under load. The last ones' runs are then waited for."""
    uncounted = 0  # fired, commit not yet seen
    under_load = 0  # commit seen with load work left
    rounding: list[threading.Thread] = []  # the enroll request of a round being started
    enrolled_at = [time.perf_counter()]  # when the last round's request had committed (answered 202)
    next_fire = time.perf_counter()

    def enroll_round() -> None:
        start_round()
        enrolled_at[0] = time.perf_counter()

    def begin_round() -> None:
        phase.rounds += 1
        enrolled_at[0] = float("inf")
        thread = threading.Thread(target=enroll_round)
        thread.start()
        rounding[:] = [thread]

    begin_round()
    rounding[0].join()  # the load is there before the first completion
    while under_load + uncounted < count or completer.pending:
        now = time.perf_counter()
        if under_load + uncounted < count and now >= next_fire and completer.load_left > 0:
            completer.fire()
            uncounted += 1
            next_fire = now + args.busy_interval
        was_committed = {c.action_id for c in completer.pending.values() if c.committed is not None}
        finished = completer.poll()
        for item in [*completer.pending.values(), *finished]:
            if item.committed is not None and item.action_id not in was_committed:
                uncounted -= 1
                if item.load_left > 0:
                    under_load += 1
        for item in finished:
            sample = completer.sample(item)
            if sample is None:
                phase.lost += 1
                if item.committed is None:
                    uncounted -= 1
                if phase.lost >= 5:
                    raise SystemExit("busy: 5 completions lost; see the web and worker logs")
            elif sample.load_left > 0:
                phase.samples.append(sample)
            else:
                phase.discarded += 1
        # No work left, seen by a poll that started after the last round's request had committed.
        idle_load = completer.load_left == 0 and completer.previous_poll > enrolled_at[0]
        if idle_load and under_load + uncounted < count:
            if phase.rounds >= args.max_rounds:
                print(f"  stopped after {phase.rounds} rounds (--max-rounds)", flush=True)
                count = under_load + uncounted
            else:
                begin_round()  # every run of the last round has finished: the same contacts may enter again
        time.sleep(args.poll)
    if rounding:
        rounding[0].join()


def one_run(kind: str, workers: int, services: Services, workdir: Path, args) -> RunResult:
    reset_redis(services.redis_url)
    db = fresh_database(kind, services, workdir)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = bench_env(db, services, queue, {"SECRET_KEY": SECRET_KEY})
    procs: list[subprocess.Popen] = []
    web = None
    conn = None
    completers: list[Completer] = []
    # Runs parked on an action: warm-up, idle, and busy with room for the completions that find the
    # load over (between two rounds) and those in flight when the count is reached.
    parked = WARMUP + args.completions + 2 * args.completions + args.max_rounds
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with app_for(env):
            from builder.extensions import db as app_db

            seeded = seed_all(args.busy_contacts, parked, args.action)
            app_db.session.remove()
        conn = db.connect()
        web = start_web(env, port, workdir)
        procs = start_workers(workers, env, workdir, simple=False, burst=False)
        wait_registered(procs, services.redis_url, queue)
        pids = [p.pid for p in procs]
        manager = requests.Session()
        manager.headers["Authorization"] = f"Bearer {seeded.manager_token}"

        def enroll(workflow_id: int, contact_ids: list[int]) -> None:
            response = manager.post(f"{base}/api/workflows/{workflow_id}/enroll", json={"contact_ids": contact_ids},
                                    timeout=120)
            if response.status_code != 202:
                raise SystemExit(f"enroll: {response.status_code} {response.text[:300]}")

        # Every latency run parked on its action before anything is timed.
        enroll(seeded.latency_workflow, seeded.latency_contacts)
        wait_for(lambda: scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'parked' "
                                      f"AND workflow_id = {seeded.latency_workflow}") >= parked,
                 args.timeout, f"{parked} runs parked on their action")
        wait_quiet(pids)
        actions = iter(conn.execute(
            "SELECT id, enrollment_id FROM manual_actions WHERE status = 'queued' ORDER BY id").fetchall())
        body = COMPLETE_BODY[args.action]

        completer = Completer(base, seeded.agent_token, conn, actions, body, args)
        completers.append(completer)
        idle_phase(PhaseResult(kind, workers, "warm-up"), completer, WARMUP, args)
        wait_quiet(pids)

        # Idle: nothing else for the workers to do.
        idle = PhaseResult(kind, workers, "idle")
        meter, started, cpu, own = CpuMeter(), time.perf_counter(), process_cpu(pids), time.process_time()
        idle_phase(idle, completer, args.completions, args)
        idle.busy, idle.seconds = meter.machine_share(), time.perf_counter() - started
        idle.bench_cpu = time.process_time() - own
        wait_quiet(pids)
        idle.worker_cpu = process_cpu(pids) - cpu
        print(f"  {kind:8} workers={workers} idle: {summary(idle)}", flush=True)

        # Busy: the same workers run a bulk enrollment of the 5-step workflow, round after round.
        # Work left in the load: requests whose batches have not all run, and runs not finished (the
        # batch that creates runs also marks its request done).
        load_left_sql = (
            f"SELECT (SELECT count(*) FROM bulk_enrollments WHERE workflow_id = {seeded.bulk_workflow} "
            "AND finished_at IS NULL) + (SELECT count(*) FROM enrollments "
            f"WHERE workflow_id = {seeded.bulk_workflow} AND status IN ('active', 'waiting', 'parked'))")
        completer = Completer(base, seeded.agent_token, conn, actions, body, args, load_left_sql)
        completers.append(completer)
        busy = PhaseResult(kind, workers, "busy")
        meter, started, cpu, own = CpuMeter(), time.perf_counter(), process_cpu(pids), time.process_time()
        busy_phase(busy, completer, args.completions, lambda: enroll(seeded.bulk_workflow, seeded.bulk_contacts),
                   args)
        busy.seconds = time.perf_counter() - started
        busy.busy, busy.bench_cpu = meter.machine_share(), time.process_time() - own
        wait_for(lambda: scalar(conn, load_left_sql) == 0, args.timeout, "the last bulk round")
        busy.bulk_runs_per_s = busy.rounds * args.busy_contacts / (time.perf_counter() - started)
        wait_quiet(pids)
        busy.worker_cpu = process_cpu(pids) - cpu
        print(f"  {kind:8} workers={workers} busy: {summary(busy)}, {busy.rounds} rounds, "
              f"{busy.discarded} discarded (committed with no load left)", flush=True)

        stop_workers(procs, terminate=True)
        done = WARMUP + sum(len(p.samples) + p.lost + p.discarded for p in (idle, busy))
        checks = verify(conn, seeded, done, busy.rounds * args.busy_contacts, args.action,
                        failed_jobs(services.redis_url, queue))
        checks["every completion answered 200 and resumed"] = idle.lost == 0 and busy.lost == 0
        return RunResult([idle, busy], checks)
    finally:
        for completer in completers:
            completer.close()
        if web is not None:
            stop_web(web)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        if conn is not None:
            conn.close()
        db.cleanup()


def verify(conn, seeded: Seeded, done: int, bulk_runs: int, action: str, failed: int) -> dict[str, bool]:
    q = lambda sql: scalar(conn, sql)  # noqa: E731
    latency, bulk = seeded.latency_workflow, seeded.bulk_workflow
    bulk_counts = [q(f"SELECT count(*) FROM enrollments WHERE workflow_id = {bulk}"),
                   q(f"SELECT count(*) FROM enrollments WHERE workflow_id = {bulk} AND status = 'completed'"),
                   # ok, or skipped: a contact entering again already has the tag and the field
                   q(f"SELECT count(*) FROM execution_logs WHERE workflow_id = {bulk} "
                     "AND outcome IN ('ok', 'skipped')")]
    if bulk_counts != [bulk_runs, bulk_runs, STEPS_PER_CONTACT * bulk_runs]:
        print(f"  load: {bulk_counts[0]} runs, {bulk_counts[1]} completed, {bulk_counts[2]} ok/skipped log rows; "
              f"expected {bulk_runs} runs", flush=True)
    checks = {
        "completed actions = completions": q("SELECT count(*) FROM manual_actions WHERE status = 'completed'") == done,
        "their runs completed, the rest still parked":
            q(f"SELECT count(*) FROM enrollments WHERE workflow_id = {latency} AND status = 'completed'") == done
            and q(f"SELECT count(*) FROM enrollments WHERE workflow_id = {latency} AND status = 'parked'")
            == len(seeded.latency_contacts) - done,
        "next step logged once per completion": q(f"SELECT count(*) FROM execution_logs WHERE workflow_id = {latency} "
                                                  f"AND step_id = '{NEXT_STEP}' AND outcome = 'ok'") == done
        and q(f"SELECT count(DISTINCT enrollment_id) FROM execution_logs WHERE step_id = '{NEXT_STEP}'") == done,
        "bulk runs completed": bulk_counts == [bulk_runs, bulk_runs, STEPS_PER_CONTACT * bulk_runs],
        "no failed jobs": failed == 0,
    }
    if action == "sms":
        checks["one text per completion"] = q("SELECT count(*) FROM messages WHERE direction = 'outbound' "
                                              "AND manual_action_id IS NOT NULL") == done
    return checks


# --- report -------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(phase: PhaseResult) -> str:
    lat = [s.latency_ms for s in phase.samples]
    return f"{len(lat)} completions, p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms"


def latency_table(results: list[RunResult]) -> str:
    lines = [
        "| DB | workers | worker | completions | commit to next step committed p50 / p99 / max ms "
        "| stamps p50 / p99 ms | complete request p50 / p99 ms | poll window p50 / max ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    nan = float("nan")
    for run in results:
        for p in run.phases:
            lat, stamp = [s.latency_ms for s in p.samples], [s.stamp_ms for s in p.samples]
            req, win = [s.request_ms for s in p.samples], [s.window_ms for s in p.samples]
            lines.append(
                f"| {p.db} | {p.workers} | {p.phase} | {len(p.samples)} | {pct(lat, .5):.1f} / {pct(lat, .99):.1f} / "
                f"{max(lat, default=nan):.1f} | {pct(stamp, .5):.1f} / {pct(stamp, .99):.1f} | "
                f"{pct(req, .5):.1f} / {pct(req, .99):.1f} | {pct(win, .5):.1f} / {max(win, default=nan):.1f} |")
    return "\n".join(lines)


def context_table(results: list[RunResult]) -> str:
    lines = [
        "| DB | workers | worker | phase s | bulk rounds | discarded | bulk runs/s | worker CPU s "
        "| worker CPU ms per completion | bench process CPU s | machine busy | lost | correct |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in results:
        bad = [name for name, ok in run.checks.items() if not ok]
        for p in run.phases:
            busy = p.phase == "busy"
            lines.append(
                f"| {p.db} | {p.workers} | {p.phase} | {p.seconds:.1f} | {p.rounds if busy else ''} "
                f"| {p.discarded if busy else ''} | {f'{p.bulk_runs_per_s:,.0f}' if busy else ''} | {p.worker_cpu:.1f} "
                f"| {'' if busy else f'{1000 * p.worker_cpu / max(1, len(p.samples)):.1f}'} | {p.bench_cpu:.1f} "
                f"| {p.busy:.0%} "
                f"| {p.lost} | {'yes' if not bad else 'NO: ' + ', '.join(bad)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--completions", type=int, default=200, help="measured completions per phase")
    parser.add_argument("--workers", default="1,2", help="worker process counts, comma-separated")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--action", choices=["call", "sms"], default="call",
                        help="the manual step: call (completed with an outcome) or sms (completing sends the text)")
    parser.add_argument("--busy-contacts", type=int, default=5000, help="contacts per bulk enroll request (the load)")
    parser.add_argument("--max-rounds", type=int, default=400, help="bulk enroll requests at most in the busy phase")
    parser.add_argument("--interval", type=float, default=0.2, help="idle: seconds between one resume and the next "
                                                                    "completion")
    parser.add_argument("--busy-interval", type=float, default=0.25,
                        help="busy: seconds between two completions (not waiting for the last one's run)")
    parser.add_argument("--poll", type=float, default=0.001, help="seconds between two database polls")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench",
                        help="PostgreSQL database to create run schemas in (created if missing)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a wait is given up")
    args = parser.parse_args(argv)

    kinds = database_kinds(args)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-resume-"))
    results: list[RunResult] = []
    with claimed_redis(args.redis, args.redis_db) as redis_url:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        print(f"# flowdesk resume latency ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"manual_{args.action}, gunicorn gthread x 2 processes, `flask worker` processes, "
              f"{args.busy_contacts:,} contacts per bulk round, poll every {args.poll * 1000:g} ms)\n", flush=True)
        for kind in kinds:
            for workers in csv_ints(args.workers):
                results.append(one_run(kind, workers, services, workdir, args))
    print("\n## From completing a manual action to its run's next step committed\n")
    print(latency_table(results))
    print()
    print(context_table(results))
    if results:
        print(f"\nChecked after every run: {'; '.join(results[0].checks)}.")
    print(f"\nLoad average now {os.getloadavg()[0]:.1f}; logs in {workdir}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
