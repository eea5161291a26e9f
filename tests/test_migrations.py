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
from tests.conftest import PG_URL, app_config
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
