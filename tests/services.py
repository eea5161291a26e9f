"""Finding (or starting) the real services the tests talk to."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from jobqueue.localredis import ensure_redis

_redis_base: str | None = None


def redis_base_url() -> str:
    """redis://host:port without a database number."""
    global _redis_base
    if _redis_base is None:
        wanted = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        url = ensure_redis(wanted, Path(os.environ.get("TMPDIR", "/tmp")) / "flowdesk-test-redis")
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
