"""Batched passes: many events, a few jobs.

An event (an inbound webhook, a tag added through the API, an inbound SMS, a step
that starts another workflow) commits its row first: a run left `active`, an
inbound event left unprocessed. Then it asks for a pass. The asks coalesce on one
Redis key per kind of pass: the first sets it and enqueues the job, the rest find
it set and add nothing. The job clears the key before it reads the database, so
an event committed after that read asks again and gets a pass of its own; one
committed before it is seen. A burst of 1,000 events becomes a handful of jobs,
each of which takes every row that is waiting, in transactions of many rows.

The key only decides whether a job needs queuing; the database says what waits.
A pass lost with its key (Redis restarted) or cut short (worker killed) leaves
its rows where the reconciler looks (jobqueue.recovery), and a key whose job was
lost expires on its own after PENDING_SECONDS.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from dataclasses import dataclass

from flask import current_app
from redis import RedisError

from jobqueue import job_names
from jobqueue.connection import get_redis
from jobqueue.queues import enqueue

log = logging.getLogger(__name__)
# Long enough that a queued pass is not doubled while it waits behind other jobs, short enough
# that a key outliving its lost job holds nothing up for long (the reconciler covers that time).
PENDING_SECONDS = 30


@dataclass(frozen=True)
class Pass:
    """One kind of batched pass: its job and the key its requests coalesce on."""

    name: str
    job: str

    def key(self) -> str:
        return f"flowdesk:pass:{current_app.config['RQ_QUEUE']}:{self.name}"

    def request(self) -> bool:
        """Make sure a pass will run after this (committed) change; True if this call queued it."""
        redis = get_redis()
        if not redis.set(self.key(), "1", nx=True, ex=PENDING_SECONDS):
            return False  # a queued pass has not read the database yet: it will see this change
        try:
            enqueue(self.job)
        except BaseException:
            with suppress(RedisError):  # let the next event try again rather than wait for the expiry
                redis.delete(self.key())
            raise
        return True

    def begin(self) -> None:
        """Called by the pass before it reads: from here on, a new event asks for the next pass.

        First it lets events gather for PASS_GATHER_MS: while the key stays set their asks queue nothing, so
        a steady stream of events is taken several to a pass rather than one or two, each pass costing RQ's
        own bookkeeping (a few ms of CPU). An event-started run waits that much longer to start."""
        gather = current_app.config["PASS_GATHER_MS"] / 1000
        if gather > 0:
            time.sleep(gather)
        get_redis().delete(self.key())


READY_RUNS = Pass("ready-runs", job_names.ADVANCE_READY)
INBOUND_EVENTS = Pass("inbound-events", job_names.PROCESS_INBOUND_PASS)
