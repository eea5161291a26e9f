"""`make run`: everything a laptop needs, in one process tree.

Migrates the database (SQLite under instance/ unless DATABASE_URL says
otherwise), starts a local Redis if none answers on REDIS_URL, loads the demo
data, starts a worker process and serves the web app with Socket.IO.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from flask import Flask
from flask_migrate import upgrade

from builder import config, database, demo
from builder.extensions import db
from jobqueue.localredis import ensure_redis


def prepare(app: Flask) -> str:
    """Migrate, load the demo data (once) and refresh planner statistics; safe to repeat."""
    with app.app_context():
        upgrade(directory=str(config.ROOT_DIR / "migrations"))
        loaded = demo.load()
        # End the session's transaction first: on SQLite it holds the write lock ANALYZE needs.
        db.session.remove()
        database.refresh_statistics(db.engine)
    return loaded


def main() -> None:
    os.environ["REDIS_URL"] = ensure_redis(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), config.INSTANCE_DIR / "redis"
    )
    from app import create_app
    from builder.extensions import socketio

    app = create_app()
    print(prepare(app), flush=True)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], env=os.environ.copy())
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    print(
        f"\n  flowdesk is running at http://{host}:{port}/\n"
        f"  Log in as agent@flowdesk.test, manager@flowdesk.test or admin@flowdesk.test"
        f" with the password {demo.PASSWORD}\n  Database: {app.config['SQLALCHEMY_DATABASE_URI']}\n"
        f"  Redis: {os.environ['REDIS_URL']}\n",
        flush=True,
    )
    try:
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
