"""The "advance ready runs" pass: every run an event left active, moved in batches.

Events (webhooks, tags, replies that start a workflow, steps that start another)
commit new runs as active and ask for this pass (jobqueue.passes.READY_RUNS)
instead of enqueuing a job each. The pass walks the ready runs in id order,
ENGINE_TXN_SIZE per transaction, locking them with SKIP LOCKED, so two workers'
passes share a burst instead of doing it twice, and a run another job is moving
(a bulk batch, a resume) is left to that job.
"""

from __future__ import annotations

import logging

from flask import current_app

from jobqueue import effects, passes, runner

log = logging.getLogger(__name__)


def run_pass() -> int:
    """Move every run that is ready when the pass starts (and any that become ready meanwhile
    with a higher id); returns how many it took."""
    passes.READY_RUNS.begin()
    size = current_app.config["ENGINE_TXN_SIZE"]
    cursor, moved = 0, 0
    while True:
        after, ids = runner.advance_ready(cursor, size)
        effects.carry_out(after)
        if not ids:
            break
        cursor, moved = ids[-1], moved + len(ids)
    if moved:
        log.info("ready-runs pass moved %s run(s)", moved)
    return moved
