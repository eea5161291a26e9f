"""Shared fixtures (plain helpers are in tests/factories.py).

Every database-backed test runs twice: on SQLite (a file per test) and on
PostgreSQL (a schema per test session, tables emptied after each test). A
machine without PostgreSQL skips the second run with the reason shown.
Redis is real: each run claims a Redis database number of its own, and RQ
queues get a unique name, so two runs never see each other's data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from app import create_app
from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, User
from tests import services
from tests.factories import PG_URL, RUN_ID, ApiClient, app_config
from tests.fake_twilio import fake_twilio  # noqa: F401  (fixture: a local fake Twilio API)

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


@pytest.fixture
def as_user(client, users):
    return lambda role: ApiClient(client, users[role])
