"""Shared fixtures.

Every database-backed test runs twice: on SQLite (a file per test) and on
PostgreSQL (a schema per test session, tables emptied after each test). A
machine without PostgreSQL skips the second run with the reason shown.
Redis is real: each run claims a Redis database number of its own, and RQ
queues get a unique name, so two runs never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import create_engine, text

from app import create_app
from builder.cli import create_user
from builder.extensions import db
from builder.models import Account, ApiToken, Contact, User, Workflow
from builder.workflows import create_workflow
from tests import services
from tests.fake_twilio import fake_twilio  # noqa: F401  (fixture: a local fake Twilio API)

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:10]


# --- Redis ---------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    base = services.redis_base_url()
    claimed = None
    for number in range(15, 0, -1):
        conn = Redis.from_url(f"{base}/{number}")
        if conn.set("flowdesk:test-run", RUN_ID, nx=True, ex=6 * 3600):
            claimed = number
            break
    if claimed is None:
        pytest.exit("no free Redis database number for the tests (all of 1-15 are claimed)", 2)
    url = f"{base}/{claimed}"
    yield url
    Redis.from_url(url).flushdb()


# --- databases -----------------------------------------------------------

@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    reason = services.postgres_unavailable(PG_URL)
    if reason:
        pytest.skip(f"PostgreSQL not available at {PG_URL}: {reason}")
    schema = f"flowdesk_test_{RUN_ID}"
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flowdesk.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


def app_config(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "WTF_CSRF_ENABLED": False,
        # Flask-SocketIO's test client refuses a message queue.
        "SOCKETIO_MESSAGE_QUEUE": None,
        "ENROLL_CHUNK_SIZE": 50,
        "ENGINE_TXN_SIZE": 20,
        "RECOVERY_GRACE_SECONDS": 60,
    }


@pytest.fixture
def app(database_url, redis_url):
    app = create_app(app_config(database_url, redis_url))
    # Each test starts its ids at 1 again: forget graphs parsed for another test's versions.
    from jobqueue import runner

    runner._graphs.clear()
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.engine.dispose()
    Redis.from_url(redis_url).flushdb()
    Redis.from_url(redis_url).set("flowdesk:test-run", RUN_ID, ex=6 * 3600)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- people and data -----------------------------------------------------

@pytest.fixture
def account(app) -> Account:
    # Quiet hours off: with them on, sends would depend on the hour the tests run. Their tests turn them on.
    account = Account(name="Acme", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.commit()
    return account


@pytest.fixture
def users(account) -> dict[str, User]:
    return {
        role: create_user(f"{role}@acme.test", role.rstrip("2"), "correct-horse", role.title(), account)
        for role in ("admin", "manager", "agent", "agent2")
    }


def token_for(user: User) -> str:
    token, secret = ApiToken.issue(user)
    db.session.add(token)
    db.session.commit()
    return secret


class ApiClient:
    """The Flask test client with a user's bearer token on every request."""

    def __init__(self, client, user: User):
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {token_for(user)}"}

    def __getattr__(self, method: str):
        def call(path: str, **kwargs):
            return getattr(self.client, method)(path, headers={**self.headers, **kwargs.pop("headers", {})},
                                                **kwargs)

        return call


@pytest.fixture
def as_user(client, users):
    return lambda role: ApiClient(client, users[role])


def make_contact(account: Account, **fields: Any) -> Contact:
    fields.setdefault("first_name", "Ada")
    fields.setdefault("phone", "+14155551000")
    tags = fields.pop("tags", [])
    contact = Contact(account_id=account.id, **fields)
    db.session.add(contact)
    db.session.flush()
    from builder.models import ContactTag

    contact.tag_rows.extend(ContactTag(tag=t) for t in tags)
    db.session.commit()
    return contact


def make_workflow(account: Account, graph: dict, *, publish: bool = True, user: User | None = None) -> Workflow:
    workflow = create_workflow(account.id, graph, author_id=user.id if user else None, publish=publish)
    db.session.commit()
    return workflow


def run_jobs(app) -> int:
    """Run every queued job in this process (RQ's SimpleWorker, burst mode)."""
    from jobqueue.connection import get_redis

    queue = Queue(app.config["RQ_QUEUE"], connection=get_redis())
    worker = SimpleWorker([queue], connection=get_redis())
    worker.work(burst=True, logging_level="WARNING")
    return worker.successful_job_count


def run_scheduled_jobs(app) -> int:
    """Move every scheduled job (due or not) onto the queue, as if its time had come."""
    from rq.registry import ScheduledJobRegistry

    from jobqueue.connection import get_redis

    queue = Queue(app.config["RQ_QUEUE"], connection=get_redis())
    registry = ScheduledJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))
    return len(ids)
