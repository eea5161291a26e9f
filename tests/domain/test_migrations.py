"""`flask db upgrade` builds exactly the schema the models describe."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from builder import config
from builder.extensions import db
from tests.factories import PG_URL, app_config, insert_early_contacts
from tests.services import postgres_unavailable


def _upgrade_and_diff(url: str, redis_url: str) -> list:
    """Upgrade, compare with the models, and check the downgrade runs back to empty."""
    app = create_app(app_config(url, redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    with app.app_context():
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        downgrade(directory=directory, revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    return diff


def test_migrations_match_models_on_sqlite(tmp_path, redis_url):
    assert _upgrade_and_diff(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url) == []


def test_migrations_match_models_on_postgres(redis_url):
    reason = postgres_unavailable(PG_URL)
    if reason:
        pytest.skip(f"PostgreSQL not available: {reason}")
    schema = f"flowdesk_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        assert _upgrade_and_diff(f"{PG_URL}?options=-csearch_path%3D{schema}", redis_url) == []
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_workflows_already_finishing_are_marked_deleted_on_upgrade(tmp_path, redis_url):
    """0007 gives deleted_at to the workflows told apart until then as "unpublished, though published before"."""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0006")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')"))
            for wid, name in ((1, "finishing"), (2, "draft"), (3, "published")):
                conn.execute(text("INSERT INTO workflows (id, account_id, name, created_at, updated_at) "
                                  "VALUES (:id, 1, :name, '2026-01-01', '2026-01-02')"), {"id": wid, "name": name})
                published = "'2026-01-01'" if wid != 2 else "NULL"
                conn.execute(text("INSERT INTO workflow_versions (id, workflow_id, number, graph, created_at, "
                                  f"published_at) VALUES (:id, :id, 1, '{{}}', '2026-01-01', {published})"),
                             {"id": wid})
            conn.execute(text("UPDATE workflows SET published_version_id = 3 WHERE id = 3"))
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT name, deleted_at FROM workflows")).all())
        db.engine.dispose()
    assert rows["draft"] is None and rows["published"] is None
    assert str(rows["finishing"]).startswith("2026-01-02")


def test_step_counts_are_backfilled_from_the_log_on_upgrade(tmp_path, redis_url):
    """0011 counts what the log shows: distinct runs per step among passing rows, test runs apart."""
    from builder.models import Account, Enrollment, ExecutionLog, WorkflowVersion, utcnow

    app = create_app(app_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    now = utcnow()
    with app.app_context():
        upgrade(directory=directory, revision="0010")
        with db.engine.begin() as conn:
            conn.execute(Account.__table__.insert(), [{"id": 1, "name": "Acme"}])
            # Only the columns 0010 has: the model's newer ones (and their defaults) do not exist yet.
            insert_early_contacts(conn, 1, [1])
            conn.execute(text("INSERT INTO workflows (id, account_id, name, created_at, updated_at) "
                              "VALUES (1, 1, 'Loop', :now, :now)"), {"now": now})
            conn.execute(WorkflowVersion.__table__.insert(), [{"id": 1, "workflow_id": 1, "number": 1, "graph": {}}])
            conn.execute(Enrollment.__table__.insert(), [
                {"id": run, "account_id": 1, "workflow_id": 1, "version_id": 1, "contact_id": 1, "status": "completed",
                 "is_test": run == 3, "source_key": f"s{run}"} for run in (1, 2, 3)])
            # Run 1 loops (passes "a" twice), run 2 fails at "b", run 3 is a test run.
            steps = [(1, "a", "ok"), (1, "b", "ok"), (1, "a", "skipped"), (1, "b", "ended"),
                     (2, "a", "ok"), (2, "b", "failed"), (3, "a", "ok"), (3, "b", "waiting")]
            conn.execute(ExecutionLog.__table__.insert(), [
                {"enrollment_id": run, "workflow_id": 1, "version_id": 1, "contact_id": 1, "step_id": step,
                 "step_type": "add_tag", "idempotency_key": f"{run}:{seq}", "outcome": outcome, "is_test": run == 3,
                 "started_at": now, "finished_at": now} for seq, (run, step, outcome) in enumerate(steps)])
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT is_test, step_id, passed FROM step_counts ORDER BY is_test, step_id"))
            counts = [(bool(test), step, passed) for test, step, passed in rows]
        db.engine.dispose()
    assert counts == [(False, "a", 2), (False, "b", 1), (True, "a", 1)]
