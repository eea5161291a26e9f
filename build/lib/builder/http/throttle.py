"""Login throttling: failed password checks counted in Redis per email address, per account and per client IP.

Each attempt is counted *before* its password is checked (one MULTI: create the
counter with the window as its expiry if new, then INCR), so parallel guesses
cannot slip past the limit between a check and a write. Once a counter is over
its limit, every attempt is refused with the counter's remaining lifetime as
Retry-After, the right password included. A successful login clears the email
and account counters and gives its count back to the IP's, so people who log in
are never held back by their own earlier typos, while an attacker with one
working login cannot reset the IP's count with it.

Counters use fixed windows (LOGIN_THROTTLE_WINDOW_SECONDS from the first failure),
and email addresses are stored hashed: Redis never holds a list of who tried.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from flask import current_app, request

from jobqueue.connection import get_redis

PREFIX = "flowdesk:login-failures"


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


def _email_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"{PREFIX}:email:{digest}"


def client_ip() -> str:
    # request.remote_addr is the peer; behind a reverse proxy, ProxyFix must make it the client.
    return request.remote_addr or "unknown"


@dataclass
class Attempt:
    """One counted login attempt; call succeeded() when its password checked out."""

    ip_key: str
    reset_keys: list[str] = field(default_factory=list)

    def succeeded(self) -> None:
        get_redis().eval(_SUCCEEDED, 1 + len(self.reset_keys), self.ip_key, *self.reset_keys)


# Give the IP its attempt back (only while its counter lives: a DECR on an expired key would
# leave a -1 with no expiry) and clear the rest, in one step.
_SUCCEEDED = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  redis.call('DECR', KEYS[1])
end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
"""


def begin(email: str, user_id: int | None) -> Attempt:
    """Count an attempt for this email (and its user, when known) and this client; raise TooManyAttempts if over."""
    config = current_app.config
    window = int(config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    per_email = int(config["LOGIN_MAX_FAILURES_PER_EMAIL"])
    limits = {f"{PREFIX}:ip:{client_ip()}": int(config["LOGIN_MAX_FAILURES_PER_IP"]), _email_key(email): per_email}
    if user_id is not None:
        # The same person whatever spelling of their address reaches them.
        limits[f"{PREFIX}:user:{user_id}"] = per_email
    pipe = get_redis().pipeline(transaction=True)
    for key in limits:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
    replies = pipe.execute()
    keys = list(limits)
    over = [
        max(math.ceil(int(ttl_ms) / 1000), 1)  # rounded up: retrying at Retry-After must work
        for limit, count, ttl_ms in zip(limits.values(), replies[1::3], replies[2::3], strict=True)
        if count > limit
    ]
    if over:
        raise TooManyAttempts(max(over))
    return Attempt(ip_key=keys[0], reset_keys=keys[1:])
