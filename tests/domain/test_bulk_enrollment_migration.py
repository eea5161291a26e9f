"""0012 moves every enroll request's JSON list of contact ids into bulk_enrollment_contacts, in order,
and leaves the requests' batches alone (SQLite's copy-and-move of the table would have cascaded)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from builder import config
from builder.extensions import db
from tests.factories import PG_URL, app_config
from tests.services import postgres_unavailable

LISTS = {1: [30, 10, 20], 2: [], 3: list(range(1000, 1000 + 12_345))}  # the last crosses copy chunks


@pytest.fixture(params=["sqlite", "postgres"])
def migration_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    reason = postgres_unavailable(PG_URL)
    if reason:
        pytest.skip(f"PostgreSQL not available: {reason}")
    schema = f"flowdesk_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_existing_requests_move_to_rows_and_back(migration_url, redis_url):
    app = create_app(app_config(migration_url, redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0011")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')"))
            conn.execute(text("INSERT INTO workflows (id, account_id, name, created_at, updated_at) "
                              "VALUES (1, 1, 'w', '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO workflow_versions (id, workflow_id, number, graph, created_at) "
                              "VALUES (1, 1, 1, '{}', '2026-01-01')"))
            for bulk_id, ids in LISTS.items():
                conn.execute(text(
                    "INSERT INTO bulk_enrollments (id, account_id, workflow_id, version_id, contact_ids, is_test, "
                    "batch_size, interval_seconds, total, processed, enrolled, skipped, created_at) "
                    "VALUES (:id, 1, 1, 1, :ids, false, 500, 0, :total, 0, 0, 0, '2026-01-01')"),
                    {"id": bulk_id, "ids": json.dumps(ids), "total": len(ids)})
            conn.execute(text('INSERT INTO bulk_enrollment_batches (bulk_id, "index", enrolled, skipped, created_at) '
                              "VALUES (3, 0, 500, 0, '2026-01-01')"))

        upgrade(directory=directory, revision="0012")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT bulk_id, position, contact_id FROM bulk_enrollment_contacts "
                                     "ORDER BY bulk_id, position")).all()
            moved = {bulk_id: [] for bulk_id in LISTS}
            for bulk_id, position, contact_id in rows:
                assert position == len(moved[bulk_id])
                moved[bulk_id].append(contact_id)
            batches = conn.execute(text("SELECT count(*) FROM bulk_enrollment_batches")).scalar()
            requests = conn.execute(text("SELECT count(*) FROM bulk_enrollments")).scalar()
            columns = {c["name"] for c in inspect(conn).get_columns("bulk_enrollments")}
        assert moved == LISTS
        assert (batches, requests) == (1, 3)  # nothing cascaded away
        assert "contact_ids" not in columns

        downgrade(directory=directory, revision="0011")
        with db.engine.connect() as conn:
            back = {bulk_id: ids if isinstance(ids, list) else json.loads(ids) for bulk_id, ids in conn.execute(
                text("SELECT id, contact_ids FROM bulk_enrollments ORDER BY id"))}
            tables = set(inspect(conn).get_table_names())
            batches = conn.execute(text("SELECT count(*) FROM bulk_enrollment_batches")).scalar()
        assert back == LISTS and batches == 1
        assert "bulk_enrollment_contacts" not in tables
        db.engine.dispose()
