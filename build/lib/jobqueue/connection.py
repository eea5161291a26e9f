"""Redis connections, one per URL per process (redis-py pools its sockets)."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# A Redis that is down refuses at once, but an unreachable host would otherwise hold a request
# (or a worker) for the operating system's connect timeout, minutes: fail fast and let the
# caller defer or answer 503. RQ raises the read timeout of a worker's connection above its
# blocking dequeue by itself.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
# Redis is down or unreachable. Other Redis errors (a bad command, out of memory) are bugs or
# capacity problems that should surface, not be deferred or answered with 503.
REDIS_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


@lru_cache(maxsize=8)
def redis_for(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                          socket_timeout=READ_TIMEOUT_SECONDS)


def get_redis() -> Redis:
    return redis_for(current_app.config["REDIS_URL"])
