"""The worker process: an RQ worker (with its scheduler for timers) that also
runs the reconciler as one of its maintenance tasks, and that outlives Redis.

flowdesk's own jobs run in the worker's process (IN_PROCESS, as RQ's SimpleWorker
runs them): they are short and idempotent, and a fork per job cost far more than
the work. Any other job gets RQ's forked work-horse.

RQ retries an idle worker's dequeue while Redis is down, but a worker that loses
Redis anywhere else (running a job, cleaning registries, sending a heartbeat)
quits. Ours stops that incarnation cleanly instead, waits for Redis with a capped
back-off, and starts a fresh one: a new registration (Redis may have come back
empty), a new scheduler, and the reconciler at once, which re-enqueues whatever
the outage lost. The database is the source of truth, so nothing runs twice.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import time
from types import FrameType
from typing import Any

from flask import Flask
from redis import Redis
from rq import SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

from builder.extensions import db
from jobqueue import job_context, job_names, pruning, recovery
from jobqueue.connection import REDIS_DOWN, get_redis
from jobqueue.queues import worker_queues

log = logging.getLogger(__name__)
STATISTICS_INTERVAL = 600  # seconds between planner-statistics refreshes (SQLite)
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


class RedisLost(StopRequested):
    """Ends this worker incarnation's loop the way a stop request does (RQ breaks out of
    its loop and tears down); `run` then waits for Redis and starts a new one."""


class ResilientMixin:
    """Turn a lost Redis into a clean stop of this incarnation instead of RQ's "quitting"."""

    redis_lost: Exception | None = None
    connection: Redis
    is_horse: bool
    horse_pid: int
    log: logging.Logger
    name: str

    def _lost(self, exc: Exception) -> RedisLost:
        if self.redis_lost is None:
            self.log.warning("Worker %s: lost Redis (%s); will start again once it answers", self.name, exc)
        self.redis_lost = exc
        return RedisLost(str(exc))

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)  # type: ignore[misc]
        except REDIS_DOWN as exc:
            raise self._lost(exc) from exc

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()  # type: ignore[misc]
        except REDIS_DOWN as exc:
            raise self._lost(exc) from exc

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        # RQ retries the blocking dequeue itself; this catches what it calls outside that retry.
        try:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)  # type: ignore[misc]
        except REDIS_DOWN as exc:
            raise self._lost(exc) from exc

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)  # type: ignore[misc]
        except REDIS_DOWN as exc:
            if not self.is_horse and self.horse_pid:
                # The work-horse may still be mid-pass: let it finish (its database work commits or
                # not on its own) rather than leave it running beside the next incarnation.
                self.wait_for_horse()  # type: ignore[attr-defined]
                self._horse_pid = 0
            raise self._lost(exc) from exc

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None or self.is_horse:
            super().heartbeat(timeout, pipeline)  # type: ignore[misc]
            return
        try:
            # One round trip instead of three, and it tells whether our worker hash still existed:
            # if Redis came back empty (or forgot us), this incarnation is no longer registered.
            with self.connection.pipeline() as pipe:
                super().heartbeat(timeout, pipe)  # type: ignore[misc]
                created = pipe.execute()[0]
        except REDIS_DOWN as exc:
            raise self._lost(exc) from exc
        if created:
            raise self._lost(ConnectionError("Redis no longer knows this worker (restarted empty?)"))

    def teardown(self) -> None:
        try:
            super().teardown()  # type: ignore[misc]
        except REDIS_DOWN as exc:
            # Nothing to unregister from while Redis is away (a restarted Redis forgot us anyway);
            # stop the command listener so it does not outlive this incarnation.
            log.info("Worker %s: could not register its stop (%s)", self.name, exc)
            thread = getattr(self, "pubsub_thread", None)
            if thread is not None:
                thread.stop()
                thread.join(timeout=1)


class ReconcilingMixin:
    """Reconcile at start-up and every maintenance interval, and prune old execution logs
    (each lock-shared by workers)."""

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
        try:  # its own block: a failed prune is not a failed reconcile, and skips nothing
            with self.app.app_context():
                pruning.prune_once_per(pruning.INTERVAL_SECONDS)
        except Exception:
            log.exception("execution log pruning failed")


# flowdesk's own jobs: short, idempotent, with time-outs on every outside call. They run in the
# worker's own process: a fork per job cost ~90 ms of CPU for ~1 ms of engine work. A job not
# named here (the benchmark's noop, say, or a future one running code we do not trust to leave
# the process clean) still gets a forked work-horse, with RQ's isolation.
IN_PROCESS = frozenset({
    job_names.ENROLL_BATCH, job_names.ADVANCE_ENROLLMENTS, job_names.ADVANCE_READY,
    job_names.RESUME_ENROLLMENT, job_names.DELIVER_MESSAGES, job_names.PROCESS_INBOUND,
    job_names.PROCESS_INBOUND_PASS, job_names.RECONCILE, job_names.PUBLISH_WORKFLOW_STATS,
    job_names.DELIVER_NOTIFICATION_TEXTS, job_names.PLACE_CALLS, job_names.CHECK_CALLS,
})
# Not CONTACT_IMPORT: it runs for minutes and holds a chunk of the file; its work-horse gives the memory back.
# Not SEND_OUTBOUND_REQUESTS or SEND_EMAILS: they wait on servers anyone may name (a webhook's URL, an
# account's SMTP host) for up to their time-outs; the calls and texts wait only on Twilio.


class InProcessMixin:
    """Run IN_PROCESS jobs the way RQ's SimpleWorker does (no fork), the rest in a work-horse.

    The job's time-out still holds (RQ's SIGALRM death penalty, in this main thread), a crash
    of the process loses only what the database has not committed (the reconciler finds it),
    and the heartbeat is set to outlast the job, as SimpleWorker's is, since no parent
    process watches it.
    """

    app: Flask

    def execute_job(self, job: Any, queue: Any) -> None:
        if job.func_name not in IN_PROCESS:
            super().execute_job(job, queue)  # type: ignore[misc]
            return
        execution = self.prepare_execution(job)  # type: ignore[attr-defined]
        # A context of the job's own, over the CLI's long-lived one: its database session (and any
        # transaction a read left open, which on SQLite holds the write lock) ends with the job.
        with self.app.app_context():
            self.perform_job(job, queue, execution)  # type: ignore[attr-defined]
        self.set_state(WorkerStatus.IDLE)  # type: ignore[attr-defined]

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        if job.func_name not in IN_PROCESS:
            return super().get_heartbeat_ttl(job, working_time)  # type: ignore[misc]
        return SimpleWorker.get_heartbeat_ttl(self, job, working_time)  # type: ignore[arg-type]


class FlowdeskWorker(ResilientMixin, ReconcilingMixin, InProcessMixin, Worker):
    pass


class FlowdeskSimpleWorker(ResilientMixin, ReconcilingMixin, SimpleWorker):
    pass


def _fresh_pool_in_child() -> None:
    # A forked work-horse must not reuse the parent's database sockets.
    db.engine.dispose(close=False)


_forking_prepared = False


def _prepare_forking() -> None:
    global _forking_prepared
    if _forking_prepared:  # once per process, however many incarnations
        return
    _forking_prepared = True
    os.register_at_fork(after_in_child=_fresh_pool_in_child)
    # What is loaded by now (the app, SQLAlchemy, the engine) lives as long as the
    # worker. Freezing it keeps it out of the work-horses' garbage collections,
    # which would otherwise walk the whole inherited heap and copy every page of it
    # (tens of milliseconds per job on a ~100 MB process).
    gc.freeze()


def build_worker(app: Flask, *, simple: bool = False, name: str | None = None) -> Worker:
    interval = app.config["RECOVERY_INTERVAL_SECONDS"]
    cls = FlowdeskSimpleWorker if simple else FlowdeskWorker
    worker = cls(
        worker_queues(), connection=get_redis(), name=name,
        maintenance_interval=interval,
        # An idle worker wakes from its blocking dequeue every worker_ttl - 15 s,
        # which is when maintenance can run.
        worker_ttl=max(interval + 15, 20),
    )
    worker.app = app
    job_context.use_app(app)  # jobs run here (in process or in a fork of it) reuse this app and its pools
    if not simple:
        _prepare_forking()
    return worker


def wait_for_redis(redis: Redis, first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_MAX_SECONDS) -> None:
    """Block until Redis answers, retrying after 1, 2, 4, ... seconds (at most `cap`)."""
    delay = first
    while True:
        try:
            redis.ping()
            if delay > first:
                log.warning("Redis answers again")
            return
        except REDIS_DOWN as exc:
            log.warning("Redis does not answer (%s); trying again in %.0f s", exc, delay)
        time.sleep(delay)
        delay = min(delay * 2, cap)


def _stop_waiting(signum: int, frame: FrameType | None) -> None:
    raise StopRequested()


def run(app: Flask, *, burst: bool = False, simple: bool = False, scheduler: bool = True) -> bool:
    """Work until stopped (or, in burst mode, until the queue is empty), across Redis outages."""
    worked = False
    try:
        while True:
            # Between incarnations a stop signal just ends the wait (the last incarnation's
            # handlers would try to record the stop in Redis).
            signal.signal(signal.SIGTERM, _stop_waiting)
            signal.signal(signal.SIGINT, _stop_waiting)
            wait_for_redis(get_redis())  # RQ's worker talks to Redis from its constructor on
            try:
                worker = build_worker(app, simple=simple)
            except REDIS_DOWN:
                continue  # gone again between the ping and the constructor
            try:
                worked = worker.work(burst=burst, with_scheduler=scheduler, logging_level="INFO") or worked
            except REDIS_DOWN as exc:  # Redis was away when this incarnation registered or unregistered
                worker.redis_lost = exc
            if worker.redis_lost is None or worker._stop_requested:
                return worked
            log.warning("the worker starts again once Redis answers")
    except StopRequested:  # a stop signal while waiting for Redis
        log.info("worker stopped while waiting for Redis")
        return worked
