"""What the in-process benchmarks share: service options, an app on a fresh database, percentiles."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_throughput import Services, fresh_database  # noqa: E402


def service_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/flowdesk_bench")


@contextmanager
def app_on(kind: str, services: Services, workdir: Path) -> Iterator:
    """The app on a fresh database with its tables, removed afterwards."""
    from app import create_app
    from builder.extensions import db

    database = fresh_database(kind, services, workdir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": services.redis_url,
                      "RQ_QUEUE": f"bench-{uuid.uuid4().hex[:8]}", "SOCKETIO_MESSAGE_QUEUE": None})
    try:
        with app.app_context():
            db.create_all()
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        database.cleanup()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]
