"""Event-started runs against bulk-started ones: N contacts, each started by its own event.

A benchmark, not a test. The same 5-step workflow as engine_throughput.py, but every contact is
started by its own event, sent over HTTP to the production web server (gunicorn, gthread, 2
processes) at bounded concurrency:

  webhook  POST /hooks/workflows/<id>/<secret> {"phone": ...}   (the inbound-webhook trigger)
  tag      PATCH /api/contacts/<id> {"tags": ["go"]}             (a contact_tag_added trigger)
  reply    POST /webhooks/twilio/sms (Twilio's signed form)      (an inbound SMS resolves a wait)

For `reply` every contact's run is started before the clock, by one bulk enroll request
(POST /api/workflows/<id>/enroll) into `w wait_for_reply -> s1 .. s5` (the 5 steps below), and
parked on the wait; the account gets Twilio settings through PUT /api/settings/twilio. The event
is then each contact's inbound SMS, signed as Twilio signs it (X-Twilio-Signature, HMAC-SHA1 of
the exact URL and form parameters with the account's auth token); the worker records the reply,
which resumes the wait down its Replied exit into s1 .. s5.

Long-running workers are listening before the first event. For each run it reports how fast the
web side accepted the events, the time until every run has finished, runs/s, step executions/s,
worker CPU per run, and the same figures for one bulk enroll request in the same sitting (the
ratio the targets are about).

    .venv/bin/python bench/event_throughput.py [--sizes 1000] [--workers 1,2] [--db sqlite,postgres]
        [--events webhook,tag,reply] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    "reply": {"type": "manual", "config": {}},  # started by a bulk enroll before the clock; the event is the reply
}
EVENTS = tuple(TRIGGERS)
SECRET_KEY = "bench-secret-key"
# reply: a wait in front of the 5 steps; its Replied exit leads into them. The time-out is far away.
WAIT_STEP = {"type": "wait_for_reply", "config": {"timeout_amount": 1, "timeout_unit": "days",
                                                  "replied_next": "s1", "timeout_next": None}, "next": None}
REPLY_BODY = "Yes please, tell me more"  # not a keyword (STOP, START, HELP, ...): a plain reply
SMS_WEBHOOK = "/webhooks/twilio/sms"  # Twilio's inbound SMS webhook (builder/web/twilio_webhooks.py)
TWILIO_FROM = "+12025550123"  # the account's number, what the contacts text (no contact has it)


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
    steps_per_run: int = STEPS_PER_CONTACT  # step executions (log rows) per run after the clock starts
    failed: list[str] = field(default_factory=list)  # the checks that did not pass

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
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    return proc
            except requests.RequestException:  # not listening yet, or still loading the app
                time.sleep(0.1)
    except BaseException:
        stop_web(proc)
        raise
    stop_web(proc)
    raise SystemExit(f"the web server did not start; see {logdir}")


def stop_web(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


@dataclass
class Seeded:
    calls: list[tuple[str, str, dict[str, Any]]]  # (method, path, requests keyword arguments), one per contact
    token: str  # a manager's API token: the events that need one, and the bulk enroll
    admin_token: str  # an admin's: the account's Twilio settings (reply)
    workflow_id: int
    contact_ids: list[int]
    twilio: dict[str, str] = field(default_factory=dict)  # reply: the account's Twilio settings, token included


def unique_phones(ids: list[int]) -> None:
    """seed() numbers phones modulo 10,000; above that, give every contact its own (a webhook or a
    reply finds its contact by phone)."""
    from sqlalchemy import update

    from builder.extensions import db
    from builder.models import Contact

    if len(ids) > 10_000:
        db.session.execute(update(Contact), [{"id": cid, "phone": f"+1415{2_000_000 + n:07d}"}
                                             for n, cid in enumerate(ids)])
        db.session.commit()


def signed_replies(base: str, phones: list[str], twilio: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """One inbound SMS per phone, as Twilio posts it: a form, signed over the exact URL and parameters."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(twilio["auth_token"])
    url = base + SMS_WEBHOOK
    calls = []
    for phone in phones:
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": twilio["account_sid"],
                  "From": phone, "To": twilio["from_number"], "Body": REPLY_BODY, "NumMedia": "0",
                  "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        calls.append(("POST", SMS_WEBHOOK, {"data": params, "headers": headers}))
    return calls


def seed_events(size: int, event: str, base: str) -> Seeded:
    """The contacts and the event-triggered workflow; each contact's request and the API tokens."""
    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.models import ApiToken, Contact, Role, User
    from builder.web.workflow_hooks import hook_secret

    manual, _, ids = seed(size)  # the contacts, and the bulk path's workflow (manual trigger: events skip it)
    unique_phones(ids)
    steps = {**GRAPH["steps"], "s1": manual.published_version.graph["steps"]["s1"]}
    graph = {**GRAPH, "name": f"Bench: on {event}", "trigger": TRIGGERS[event], "steps": steps}
    if event == "reply":
        graph = {**graph, "start": "w", "steps": {"w": WAIT_STEP, **steps}}
    workflow = create_workflow(manual.account_id, graph)
    manager = User(account_id=manual.account_id, email="manager@bench.test", name="Manager", role=Role.MANAGER)
    admin = User(account_id=manual.account_id, email="admin@bench.test", name="Admin", role=Role.ADMIN)
    db.session.add_all([manager, admin])
    db.session.flush()
    token, secret = ApiToken.issue(manager)
    admin_row, admin_secret = ApiToken.issue(admin)
    db.session.add_all([token, admin_row])
    db.session.commit()
    seeded = Seeded([], secret, admin_secret, workflow.id, ids)
    phones = dict(db.session.query(Contact.id, Contact.phone).filter(Contact.id.in_(ids)).all())
    if event == "webhook":
        path = f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}"
        seeded.calls = [("POST", path, {"json": {"phone": phones[cid]}}) for cid in ids]
    elif event == "tag":
        seeded.calls = [("PATCH", f"/api/contacts/{cid}", {"json": {"tags": ["go"]}}) for cid in ids]
    else:
        seeded.twilio = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16),
                         "from_number": TWILIO_FROM}
        seeded.calls = signed_replies(base, [phones[cid] for cid in ids], seeded.twilio)
    return seeded


def wait_quiet(pids: list[int], settle: float = 1.0, timeout: float = 120) -> None:
    """Until the workers (and their work-horses) have used no CPU for `settle` seconds: the work that
    follows a commit (timers, live events) is done, so none of it lands in the measured phase."""
    step, quiet, last = 0.25, 0.0, process_cpu(pids)
    deadline = time.monotonic() + timeout
    while quiet < settle and time.monotonic() < deadline:
        time.sleep(step)
        now = process_cpu(pids)
        quiet = quiet + step if now - last < 0.015 else 0.0
        last = now


def park_on_the_wait(base: str, seeded: Seeded, conn, procs: list[subprocess.Popen], args) -> None:
    """reply, before the clock: the account's Twilio settings, then one bulk enroll request that
    parks every run on the wait; returns once all are waiting and the workers are idle."""
    admin = {"Authorization": f"Bearer {seeded.admin_token}"}
    response = requests.put(f"{base}/api/settings/twilio", json=seeded.twilio, headers=admin, timeout=60)
    if response.status_code != 200:
        raise SystemExit(f"PUT /api/settings/twilio: {response.status_code} {response.text[:300]}")
    manager = {"Authorization": f"Bearer {seeded.token}"}
    response = requests.post(f"{base}/api/workflows/{seeded.workflow_id}/enroll",
                             json={"contact_ids": seeded.contact_ids}, headers=manager, timeout=120)
    if response.status_code != 202:
        raise SystemExit(f"enroll: {response.status_code} {response.text[:300]}")
    size = len(seeded.contact_ids)
    deadline = time.monotonic() + args.timeout
    waiting = 0
    while waiting < size:
        waiting = scalar(conn, "SELECT count(*) FROM enrollments WHERE status = 'waiting' AND current_step = 'w'")
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit(f"reply: only {waiting}/{size} runs waiting for a reply after {args.timeout}s")
        time.sleep(args.poll)
    wait_quiet([p.pid for p in procs])


def reply_checks(conn, size: int) -> dict[str, bool]:
    """What an inbound SMS must have done, on top of verify(): recorded once, against its contact,
    resolving the wait down Replied; nothing sent, no contact created."""
    q = lambda sql: scalar(conn, sql)  # noqa: E731
    replied = """CAST(output AS TEXT) LIKE '%"resumed_by": "reply"%'"""
    return {
        "one reply message each": q("SELECT count(*) FROM messages WHERE direction = 'inbound'") == size
        and q("SELECT count(DISTINCT contact_id) FROM messages WHERE direction = 'inbound'") == size
        and q(f"SELECT count(*) FROM messages WHERE direction = 'inbound' AND body = '{REPLY_BODY}' "
              "AND status = 'received'") == size,
        "reply filed under its sender": q("SELECT count(*) FROM messages m JOIN contacts c ON c.id = m.contact_id "
                                          "WHERE m.direction = 'inbound' AND m.from_number = c.phone") == size,
        "every inbound event processed": q("SELECT count(*) FROM inbound_events") == size
        and q("SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL "
              "AND message_id IS NOT NULL") == size,
        "no contact created, nothing sent": q("SELECT count(*) FROM contacts") == size
        and q("SELECT count(*) FROM messages WHERE direction = 'outbound'") == 0,
        "waits resolved by the reply": q("SELECT count(*) FROM execution_logs WHERE step_id = 'w' "
                                         "AND outcome = 'waiting'") == size
        and q(f"SELECT count(*) FROM execution_logs WHERE step_id = 'w' AND outcome = 'ok' AND {replied}") == size,
        "logs == 7N": q("SELECT count(*) FROM execution_logs") == (STEPS_PER_CONTACT + 2) * size,
    }


def send_all(base: str, calls: list[tuple[str, str, dict[str, Any]]], token: str, concurrency: int) -> int:
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
            method, path, kwargs = calls[index]
            response = session.request(method, base + path, timeout=60, **kwargs)
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
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with app_for(env):
            from builder.extensions import db as app_db

            seeded = seed_events(size, event, base)
            app_db.session.remove()
        conn = db.connect()
        web = start_web(env, port, workdir)
        procs = start_workers(workers, env, workdir, simple=False, burst=False)
        wait_registered(procs, services.redis_url, queue)
        if event == "reply":  # every run parked on its wait before the clock starts
            park_on_the_wait(base, seeded, conn, procs, args)
        warm_cpu = process_cpu([p.pid for p in procs])
        started = time.perf_counter()
        errors = send_all(base, seeded.calls, seeded.token, args.concurrency)
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
        steps = STEPS_PER_CONTACT
        if event == "reply":  # two more log rows per run (the wait, then its resume)
            checks.pop("logs == 5N", None)
            checks.update(reply_checks(conn, size))
            steps += 1  # after the clock: the wait's resume, then the 5 steps
        checks["every request 2xx"] = errors == 0
        failed = [name for name, ok in checks.items() if not ok]
        return EventResult(kind, event, size, workers, send_s, wall_s, worker_cpu, errors,
                           ok=not failed, steps_per_run=steps, failed=failed)
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
            f"| {r.runs_per_s:,.1f} | {r.runs_per_s * r.steps_per_run:,.0f} | {1000 * r.worker_cpu / r.size:.1f} "
            f"| {bulk_rate:,.0f} | {1000 * bulk_cpu / r.size:.1f} | {r.runs_per_s / bulk_rate:.1%} "
            f"| {'yes' if r.ok else 'NO: ' + ', '.join(r.failed)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="contacts per run, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker process counts, comma-separated")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--events", default="webhook,tag,reply", help="comma-separated: webhook, tag, reply")
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
    if unknown := [e for e in event_kinds if e not in EVENTS]:
        parser.error(f"unknown event kind(s) {', '.join(unknown)}: use {', '.join(EVENTS)}")
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-events-"))
    results: list[EventResult] = []
    bulk: dict[tuple[str, int, int], tuple[float, float]] = {}
    with claimed_redis(args.redis, args.redis_db) as redis_url:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        print(f"# flowdesk event-started runs ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"{args.concurrency} requests in flight, gunicorn gthread x 2, flask workers)\n", flush=True)
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
    if any(r.event == "reply" for r in results):
        print("\nreply: the runs were parked on their wait before the clock; steps/s counts 6 step executions "
              "per run for it (the wait's resume and the 5 steps), 5 for the others.")
    print(f"\nLoad average now {os.getloadavg()[0]:.1f}; worker logs in {workdir}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
