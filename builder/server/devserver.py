"""`make run`: everything a laptop needs, in one process tree.

Migrates the database (SQLite under instance/ unless DATABASE_URL says
otherwise), starts a local Redis if none answers on REDIS_URL, loads the demo
data, then runs and watches two child processes: the web app under gunicorn's
threaded worker (as in production; Werkzeug's development server where gunicorn
cannot run) and a `flask --app app worker`. A worker that dies is started again
after a short back-off; stopping `make run` (Ctrl+C or SIGTERM) stops both.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler

from app import create_app
from builder import config, database
from builder.extensions import db, socketio
from builder.server import demo
from jobqueue.localredis import ensure_redis

log = logging.getLogger("flowdesk.devserver")
SERVER_NAME = "flowdesk"  # the Server header: no product, version or Python version to look up
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
STEADY_SECONDS = 60.0  # a worker that ran this long before dying starts again after the first delay
STOP_TIMEOUT_SECONDS = 30.0


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, minus "Werkzeug/x.y Python/3.z" in every response's Server header."""

    server_version = SERVER_NAME  # type: ignore[assignment]
    sys_version = ""

    def version_string(self) -> str:
        return SERVER_NAME


def prepare(app: Flask, base_url: str = "http://127.0.0.1:5000") -> str:
    """Migrate, load the demo data (once) and refresh planner statistics; safe to repeat."""
    with app.app_context():
        upgrade(directory=str(config.ROOT_DIR / "migrations"))
        loaded = demo.load(base_url)
        # End the session's transaction first: on SQLite it holds the write lock ANALYZE needs.
        db.session.remove()
        database.refresh_statistics(db.engine)
    return loaded


def gunicorn_available() -> bool:
    if os.environ.get("FLOWDESK_WEB_SERVER") == "werkzeug" or os.name != "posix":
        return False  # gunicorn runs on POSIX systems only
    try:
        import gunicorn.workers.gthread  # noqa: F401  (only asks whether gunicorn and its threaded worker are installed)
    except ImportError:
        return False
    return True


def web_command() -> tuple[list[str], str]:
    """The web server's command line and how the banner names it."""
    if gunicorn_available():
        from builder.server import gunicorn_conf  # imports gunicorn, which may be absent (see above)

        return (
            [sys.executable, "-m", "gunicorn", "-c", "python:builder.server.gunicorn_conf", "app:create_app()"],
            f"gunicorn, {gunicorn_conf.worker_class} ({gunicorn_conf.workers} processes"
            f" x {gunicorn_conf.threads} threads), as in production",
        )
    return ([sys.executable, "-c", "from builder.server.devserver import serve_werkzeug; serve_werkzeug()"],
            "Werkzeug's development server (gunicorn is not available here)")


def serve_werkzeug() -> None:
    """The fallback web server: Flask-SocketIO on Werkzeug, threaded, real websockets."""
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    socketio.run(create_app(), host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False,
                 request_handler=QuietRequestHandler)


class Supervisor:
    """Starts the web server and the worker, starts the worker again when it dies, stops both on request."""

    def __init__(self, web_cmd: list[str], env: dict[str, str]):
        self.web_cmd, self.env = web_cmd, env
        self.worker_cmd = [sys.executable, "-m", "flask", "--app", "app", "worker"]
        self.stopping = threading.Event()
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def _spawn(self, cmd: list[str]) -> subprocess.Popen:
        # A process group of its own: a stop reaches the worker's scheduler child too, and the
        # terminal's Ctrl+C reaches only us, so each child gets exactly one stop signal.
        return subprocess.Popen(cmd, cwd=config.ROOT_DIR, env=self.env, start_new_session=True)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Supervise until asked to stop or the web server exits; returns the exit status."""
        self.web = self._spawn(self.web_cmd)
        self.worker = self._spawn(self.worker_cmd)
        started, delay = time.monotonic(), RESTART_FIRST_SECONDS
        try:
            while not self.stopping.wait(0.5):
                if self.web.poll() is not None:
                    log.error("the web server exited with status %s; stopping", self.web.returncode)
                    return self.web.returncode or 1
                if self.worker.poll() is None:
                    continue
                code = self.worker.returncode
                delay = RESTART_FIRST_SECONDS if time.monotonic() - started > STEADY_SECONDS else delay
                log.warning("the worker (pid %s) exited with status %s; starting a new one in %.0f s",
                            self.worker.pid, code, delay)
                _signal_group(self.worker.pid, signal.SIGTERM)  # e.g. its scheduler, left behind by a kill
                if self.stopping.wait(delay):
                    break
                self.worker = self._spawn(self.worker_cmd)
                log.warning("started a new worker (pid %s)", self.worker.pid)
                started, delay = time.monotonic(), min(delay * 2, RESTART_MAX_SECONDS)
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        children = [p for p in (self.worker, self.web) if p is not None]
        for proc in children:
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for proc in children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %s did not stop in %.0f s; killing it", proc.pid, STOP_TIMEOUT_SECONDS)
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            _signal_group(proc.pid, signal.SIGKILL)  # anything its group left behind


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ["REDIS_URL"] = ensure_redis(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), config.INSTANCE_DIR / "redis"
    )
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    # The demo's welcome workflow posts to this server's own inbound webhook: let the address guard
    # allow that one host (and nothing else private) unless the environment says otherwise.
    own = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # listening everywhere: reach it locally
    os.environ.setdefault("ALLOWED_WEBHOOK_HOSTS", f"{own}:{port}")
    app = create_app()
    print(prepare(app, f"http://{own}:{port}"), flush=True)
    with app.app_context():
        db.engine.dispose()  # the children open their own connections
    env = {**os.environ, "HOST": host, "PORT": port}
    env.setdefault("WEB_GRACEFUL_TIMEOUT", "3")  # on a laptop, stop promptly even with pages open
    web_cmd, server = web_command()
    supervisor = Supervisor(web_cmd, env)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    print(
        f"\n  flowdesk is running at http://{host}:{port}/\n"
        f"  Log in as agent@flowdesk.test, manager@flowdesk.test or admin@flowdesk.test"
        f" with the password {demo.PASSWORD}\n  Database: {app.config['SQLALCHEMY_DATABASE_URI']}\n"
        f"  Redis: {os.environ['REDIS_URL']}\n  Web server: {server}\n"
        f"  Worker: flask --app app worker (started again if it dies)\n",
        flush=True,
    )
    code = supervisor.run()
    log.info("stopped")
    sys.exit(code)


if __name__ == "__main__":
    main()
