"""Engine tuning per database.

SQLite (the embedded default) gets WAL, a busy timeout and BEGIN IMMEDIATE:
web requests and worker processes share one file, and a deferred transaction
that reads then writes can fail at once with "database is locked" when another
process wrote in between. Taking the write lock at BEGIN makes writers queue
behind each other instead, which busy_timeout then waits out.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def is_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite")


def engine_options(uri: str) -> dict:
    if is_sqlite(uri):
        # isolation_level=None hands transaction control to the "begin" hook below.
        return {"connect_args": {"isolation_level": None, "timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def refresh_statistics(engine: Engine) -> None:
    """Give SQLite's planner fresh statistics, so that it picks the indexes the
    list and filter queries were built for (with none it may scan the table).
    PostgreSQL's autovacuum keeps its own; there this does nothing."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sample, so it stays cheap on big tables
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
