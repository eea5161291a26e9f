"""Finding (or starting) the real services the tests talk to."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from jobqueue.localredis import answers, ensure_redis, free_port

_redis_base: str | None = None


def redis_base_url() -> str:
    """redis://host:port without a database number."""
    global _redis_base
    if _redis_base is None:
        wanted = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "flowdesk-test-redis"
        worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... when `make test` runs in processes
        if worker and not answers(wanted):
            # Each process starts a Redis of its own on a free port: one shared would stop when the
            # process that started it ends, under the others still running.
            wanted, data_dir = f"redis://127.0.0.1:{free_port()}/0", data_dir / worker
        url = ensure_redis(wanted, data_dir)
        _redis_base = url.rsplit("/", 1)[0]
    return _redis_base


def postgres_unavailable(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        return str(exc).splitlines()[0]
    return None
