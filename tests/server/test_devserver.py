"""`make run`: migrate, demo data and statistics (a second start finds everything in place); gunicorn
serves, a dead worker is started again, SIGTERM stops it all; no server names itself."""

import os
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from builder.extensions import db
from builder.models import User
from builder.server.devserver import QuietRequestHandler, prepare
from tests.factories import app_config
from tests.workers import ROOT, accepts, free_port, wait_for


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


def test_the_development_server_names_no_product_in_its_server_header(app):
    """The Werkzeug fallback of `make run` (where gunicorn cannot run) says only "flowdesk"."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login", timeout=10) as res:
            header = res.headers["Server"]
    finally:
        server.shutdown()
        server.server_close()
    assert header == "flowdesk"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_make_run_serves_with_gunicorn_restarts_a_dead_worker_and_stops_on_sigterm(tmp_path, redis_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "REDIS_URL": redis_url,
           "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}", "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_CONCURRENCY": "1"}
    log_path = tmp_path / "devserver.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "builder.server.devserver"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    text = lambda: log_path.read_text()  # noqa: E731
    try:
        assert wait_for(lambda: accepts(port) or proc.poll() is not None, timeout=120) and proc.poll() is None, (
            text())
        assert "Web server: gunicorn, gthread" in text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as res:
            assert res.headers["Server"] == "flowdesk"  # not gunicorn, nor its version

        def worker() -> int | None:
            found = [pid for pid in _children(proc.pid) if " worker" in _cmdline(pid)]
            return found[0] if found else None

        first = worker()
        assert first is not None, text()
        os.kill(first, signal.SIGKILL)  # what the OOM killer or a crash does
        assert wait_for(lambda: worker() not in (None, first), timeout=30), text()
        second = worker()
        assert f"the worker (pid {first}) exited with status -9; starting a new one" in text()
        assert f"started a new worker (pid {second})" in text()

        web = [pid for pid in _children(proc.pid) if "gunicorn" in _cmdline(pid)]
        assert wait_for(lambda: _children(second), timeout=30), text()  # its scheduler
        everything = [proc.pid, *_descendants(proc.pid)]
        assert web and len(everything) >= 5, (everything, text())  # gunicorn's master and worker, rq's scheduler

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, text()
        assert wait_for(lambda: not any(_alive(pid) for pid in everything), timeout=10), (
            [(pid, _cmdline(pid)) for pid in everything if _alive(pid)])
    finally:
        # The children run in sessions of their own: a failed test must not leave them behind.
        seen = _descendants(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for pid in seen:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
