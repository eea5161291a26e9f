"""The worker process: an RQ worker (with its scheduler for timers) that also
runs the reconciler as one of its maintenance tasks."""

from __future__ import annotations

import gc
import logging
import os

from flask import Flask
from rq import SimpleWorker, Worker

from builder.extensions import db
from jobqueue import recovery
from jobqueue.connection import get_redis
from jobqueue.queues import get_queue

log = logging.getLogger(__name__)
STATISTICS_INTERVAL = 600  # seconds between planner-statistics refreshes (SQLite)


class ReconcilingMixin:
    """Reconcile at start-up and every maintenance interval (lock-shared by workers)."""

    app: Flask

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[misc]
        try:
            with self.app.app_context():
                found = recovery.reconcile_once_per(self.app.config["RECOVERY_INTERVAL_SECONDS"])
                recovery.refresh_statistics_once_per(STATISTICS_INTERVAL)
            if found:
                log.info("reconcile pass: %s", found)
        except Exception:  # the worker must keep working even if a pass fails
            log.exception("reconcile pass failed")


class FlowdeskWorker(ReconcilingMixin, Worker):
    pass


class FlowdeskSimpleWorker(ReconcilingMixin, SimpleWorker):
    pass


def _fresh_pool_in_child() -> None:
    # A forked work-horse must not reuse the parent's database sockets.
    db.engine.dispose(close=False)


def build_worker(app: Flask, *, simple: bool = False, name: str | None = None) -> Worker:
    interval = app.config["RECOVERY_INTERVAL_SECONDS"]
    cls = FlowdeskSimpleWorker if simple else FlowdeskWorker
    worker = cls(
        [get_queue()], connection=get_redis(), name=name,
        maintenance_interval=interval,
        # An idle worker wakes from its blocking dequeue every worker_ttl - 15 s,
        # which is when maintenance can run.
        worker_ttl=max(interval + 15, 20),
    )
    worker.app = app
    if not simple:
        os.register_at_fork(after_in_child=_fresh_pool_in_child)
        # What is loaded by now (the app, SQLAlchemy, the engine) lives as long as the
        # worker. Freezing it keeps it out of the work-horses' garbage collections,
        # which would otherwise walk the whole inherited heap and copy every page of it
        # (tens of milliseconds per job on a ~100 MB process).
        gc.freeze()
    return worker


def run(app: Flask, *, burst: bool = False, simple: bool = False, scheduler: bool = True) -> bool:
    worker = build_worker(app, simple=simple)
    return worker.work(burst=burst, with_scheduler=scheduler, logging_level="INFO")
