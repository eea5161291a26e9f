"""How many event requests per second the production web server accepts, per endpoint and database.

A benchmark, not a test. It starts gunicorn (gthread, 2 processes, the settings of
builder/server/gunicorn_conf.py, as `make run` starts it) on a free port against a fresh
database, seeds one account and fires N requests per endpoint at bounded concurrency:

  webhook  POST /hooks/workflows/<id>/<secret> {"phone": ..., "first_name": ...}  (inbound-webhook trigger)
  tag      PATCH /api/contacts/<id> {"tags": ["go"]} with a bearer token          (a contact_tag_added trigger)
  sms      POST /webhooks/twilio/sms, form-encoded, signed with the account's Twilio auth token

No RQ worker runs: the web side only commits and enqueues, so the jobs pile up in Redis (emptied
afterwards). The load generator is deliberately cheap: one keep-alive http.client connection per
thread, every request body and signature made before the clock starts. It shares the machine's
cores with the server, so its CPU time is measured and reported next to the server's.

After each endpoint every answer must have been 2xx and the rows must exist (one enrollment per
request in the webhook and tag workflows, one stored inbound event per SMS).

    .venv/bin/python bench/web_throughput.py [--requests 2000] [--concurrency 16] [--db sqlite,postgres]
        [--endpoints webhook,tag,sms] [--repeat 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import (  # noqa: E402
    CpuMeter,
    Database,
    Services,
    app_for,
    bench_env,
    claimed_redis,
    database_kinds,
    fresh_database,
    process_cpu,
    reset_redis,
    scalar,
)
from event_throughput import free_port, start_web, stop_web  # noqa: E402

SECRET_KEY = "bench-secret-key"
TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-twilio-auth-token"
TWILIO_NUMBER = "+14155550000"
WARMUP = 20  # requests per endpoint before the clock starts (imports, connections, caches)
ENDPOINTS = ("webhook", "tag", "sms")


@dataclass
class Call:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Result:
    db: str
    endpoint: str
    requests: int
    seconds: float
    errors: int
    server_cpu: float  # CPU seconds of the gunicorn processes while sending
    client_cpu: float  # CPU seconds of this process (the load generator) while sending
    machine_busy: float  # share of the whole machine's CPU in use
    load: float  # 1-minute load average when the run started
    ok: bool

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds


# --- seeding (in this process, with the app configured like the server) ------

def seed(total: int) -> dict[str, Any]:
    """An account with Twilio settings, a manager's API token, `total` contacts and three published
    workflows (inbound webhook, tag added, and a manual one that is not listening: a realistic account
    has workflows an event must skip)."""
    from sqlalchemy import insert, select

    from builder.domain.workflows import create_workflow
    from builder.extensions import db
    from builder.integrations import twilio_settings
    from builder.models import Account, ApiToken, Contact, Role, User, utcnow
    from builder.web.workflow_hooks import hook_secret

    account = Account(name="Bench", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.flush()
    manager = User(account_id=account.id, email="manager@bench.test", name="Manager", role=Role.MANAGER)
    db.session.add(manager)
    db.session.flush()
    token, secret = ApiToken.issue(manager)
    db.session.add(token)
    twilio_settings.save(account.id, account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, from_number=TWILIO_NUMBER,
                         messaging_service_sid=None, user_id=manager.id)
    now = utcnow()
    db.session.execute(insert(Contact), [
        {"account_id": account.id, "first_name": f"Contact{i}", "last_name": "Bench", "phone": f"+1415666{i:04d}",
         "timezone": "UTC", "custom_fields": {}, "created_at": now, "updated_at": now}
        for i in range(total)
    ])

    def graph(name: str, trigger: dict) -> dict:
        return {"name": name, "trigger": trigger, "start": "s1",
                "steps": {"s1": {"type": "add_note", "config": {"body": "Hello {{ contact.first_name }}"},
                                 "next": None}}}

    webhook = create_workflow(account.id, graph("Bench: webhook", {
        "type": "inbound_webhook", "config": {"field_map": {"phone": "phone", "first_name": "first_name"}}}))
    tag = create_workflow(account.id, graph("Bench: tag", {"type": "contact_tag_added", "config": {"tag": "go"}}))
    create_workflow(account.id, graph("Bench: manual", {"type": "manual", "config": {}}))
    db.session.commit()
    contacts = db.session.execute(select(Contact.id, Contact.phone).order_by(Contact.id)).all()
    return {"token": secret, "webhook": webhook.id, "tag": tag.id, "hook_secret": hook_secret(webhook.id),
            "contacts": contacts}


def build_calls(endpoint: str, seeded: dict[str, Any], port: int, contacts: list[tuple[int, str]]) -> list[Call]:
    """Every request of one endpoint, ready to send (bodies encoded, Twilio signatures computed)."""
    from twilio.request_validator import RequestValidator

    if endpoint == "webhook":
        path = f"/hooks/workflows/{seeded['webhook']}/{seeded['hook_secret']}"
        return [Call("POST", path, json.dumps({"phone": phone, "first_name": f"Hooked{cid}"}).encode(),
                     {"Content-Type": "application/json"}) for cid, phone in contacts]
    if endpoint == "tag":
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {seeded['token']}"}
        body = json.dumps({"tags": ["go"]}).encode()
        return [Call("PATCH", f"/api/contacts/{cid}", body, headers) for cid, _ in contacts]
    validator = RequestValidator(TWILIO_TOKEN)
    url = f"http://127.0.0.1:{port}/webhooks/twilio/sms"
    calls = []
    for cid, phone in contacts:
        params = {"AccountSid": TWILIO_SID, "MessageSid": f"SM{uuid.uuid4().hex}", "From": phone,
                  "To": TWILIO_NUMBER, "Body": f"Yes please ({cid})", "NumMedia": "0"}
        calls.append(Call("POST", "/webhooks/twilio/sms", urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params)}))
    return calls


# --- the load generator ------------------------------------------------------------

def send_all(port: int, calls: list[Call], concurrency: int) -> tuple[int, list[str]]:
    """Send every call, `concurrency` at a time over keep-alive connections; (non-2xx count, first few)."""
    errors: list[str] = []
    lock = threading.Lock()
    position = iter(range(len(calls)))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                call = calls[index]
                conn.request(call.method, call.path, call.body, call.headers)
                response = conn.getresponse()
                data = response.read()
                if not 200 <= response.status < 300:
                    with lock:
                        errors.append(f"{call.method} {call.path}: {response.status} {data[:200]!r}")
                if response.will_close:
                    conn.close()  # reconnects on the next request
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(errors), errors[:3]


def worker_pids(master: int) -> list[int]:
    """The gunicorn worker processes of this master (Linux /proc)."""
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


# --- checks ---------------------------------------------------------------------------

def rows_exist(conn, endpoint: str, seeded: dict[str, Any], expected: int) -> bool:
    if endpoint == "webhook":
        return scalar(conn, f"SELECT count(*) FROM enrollments WHERE workflow_id = {seeded['webhook']}") == expected
    if endpoint == "tag":
        return (scalar(conn, f"SELECT count(*) FROM enrollments WHERE workflow_id = {seeded['tag']}") == expected
                and scalar(conn, "SELECT count(*) FROM contact_tags WHERE tag = 'go'") == expected)
    return scalar(conn, "SELECT count(*) FROM inbound_events") == expected


def db_run(kind: str, services: Services, workdir: Path, args) -> list[Result]:
    reset_redis(services.redis_url)
    database: Database = fresh_database(kind, services, workdir)
    env = bench_env(database, services, f"bench-{uuid.uuid4().hex[:8]}", {"SECRET_KEY": SECRET_KEY})
    results: list[Result] = []
    web = conn = None
    per_endpoint = args.requests + WARMUP
    try:
        with app_for(env):
            from builder.extensions import db as app_db

            seeded = seed(per_endpoint)
            app_db.session.remove()
        conn = database.connect()
        port = free_port()
        web = start_web(env, port, workdir)
        for endpoint in args.endpoints:
            calls = build_calls(endpoint, seeded, port, seeded["contacts"])
            errors, shown = send_all(port, calls[args.requests:], min(args.concurrency, WARMUP))  # warm-up
            pids = [web.pid, *worker_pids(web.pid)]  # after the warm-up: every worker has booted by now
            load = os.getloadavg()[0]
            server0, client0, meter = process_cpu(pids), time.process_time(), CpuMeter()
            started = time.perf_counter()
            measured_errors, measured_shown = send_all(port, calls[:args.requests], args.concurrency)
            seconds = time.perf_counter() - started
            client_cpu, server_cpu = time.process_time() - client0, process_cpu(pids) - server0
            busy = meter.machine_share()
            errors += measured_errors
            for line in shown + measured_shown:
                print(f"    {line}", flush=True)
            ok = errors == 0 and rows_exist(conn, endpoint, seeded, per_endpoint)
            result = Result(kind, endpoint, args.requests, seconds, errors, server_cpu, client_cpu, busy, load, ok)
            results.append(result)
            print(f"  {kind:8} {endpoint:7} {result.per_s:7,.0f} req/s  server {1000 * server_cpu / args.requests:.2f} "
                  f"ms CPU/req  client {1000 * client_cpu / args.requests:.2f} ms CPU/req  machine busy "
                  f"{busy:.0%}  load {load:.1f}  {'ok' if ok else 'NOT OK'}", flush=True)
        return results
    finally:
        if web is not None:
            stop_web(web)
        if conn is not None:
            conn.close()
        database.cleanup()
        reset_redis(services.redis_url)


def table(results: list[Result]) -> str:
    lines = ["| DB | endpoint | requests | accepted/s | server CPU ms/req | client CPU ms/req | machine busy "
             "| load avg | all 2xx, rows there |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r.db} | {r.endpoint} | {r.requests:,} | {r.per_s:,.0f} "
                     f"| {1000 * r.server_cpu / r.requests:.2f} | {1000 * r.client_cpu / r.requests:.2f} "
                     f"| {r.machine_busy:.0%} | {r.load:.1f} "
                     f"| {'yes' if r.ok else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help="webhook, tag, sms (comma-separated)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per database (a fresh server and database each)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis base URL, no database number")
    parser.add_argument("--redis-db", type=int, help="Redis database number (default: first free of 14..1)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench",
                        help="PostgreSQL database to create run schemas in (created if missing)")
    args = parser.parse_args(argv)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; use {', '.join(ENDPOINTS)}")

    kinds = database_kinds(args)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-web-"))
    results: list[Result] = []
    with claimed_redis(args.redis, args.redis_db) as redis_url:
        services = Services(redis_url=redis_url, pg_url=args.pg)
        print(f"# flowdesk web throughput ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"{args.concurrency} requests in flight, gunicorn gthread x 2 processes, no RQ worker)\n", flush=True)
        for _ in range(args.repeat):
            for kind in kinds:
                results += db_run(kind, services, workdir, args)
    print("\n## Accepted requests/s per endpoint\n")
    print(table(results))
    print(f"\nLoad average now {os.getloadavg()[0]:.1f}; server logs in {workdir}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
