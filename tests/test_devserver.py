"""`make run`'s start-up: migrate, demo data, statistics; a second start finds everything in place."""

from sqlalchemy import func, select

from app import create_app
from builder.devserver import prepare
from builder.extensions import db
from builder.models import User
from tests.conftest import app_config


def test_start_up_twice_on_one_sqlite_file(tmp_path, redis_url):
    config = app_config(f"sqlite:///{tmp_path / 'run.sqlite3'}", redis_url)
    first = create_app(config)
    assert prepare(first).startswith("Demo data loaded")
    second = create_app(config)  # as a second `make run` would
    assert prepare(second) == "Demo data already loaded."
    with second.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 4
        db.session.remove()
        db.engine.dispose()
    with first.app_context():
        db.engine.dispose()
