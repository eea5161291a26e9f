"""Redis connections, one per URL per process (redis-py pools its sockets)."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from redis import Redis

# A Redis that is down refuses at once, but an unreachable host would otherwise hold a request
# (or a worker) for the operating system's connect timeout, minutes: fail fast and let the
# caller defer or answer 503. RQ raises the read timeout of a worker's connection above its
# blocking dequeue by itself.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15


@lru_cache(maxsize=8)
def redis_for(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                          socket_timeout=READ_TIMEOUT_SECONDS)


def get_redis() -> Redis:
    return redis_for(current_app.config["REDIS_URL"])
