"""Execution-log retention (jobqueue.pruning): old logs of ended runs go in batches, the rest stays,
and the builder's step counts do not move."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from builder.domain.workflow_stats import passed_by_step
from builder.extensions import db
from builder.models import Account, Enrollment, ExecutionLog, Workflow, utcnow
from jobqueue import enroll, jobs, pruning
from jobqueue.connection import get_redis
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

QUICK = {"name": "Quick", "start": "a", "steps": {
    "a": {"type": "add_tag", "config": {"tag": "a"}, "next": "b"},
    "b": {"type": "add_tag", "config": {"tag": "b"}, "next": None},
}}
LOOP = {"name": "Loop", "start": "tag", "steps": {
    "tag": {"type": "add_tag", "config": {"tag": "looped"}, "next": "pause"},
    "pause": {"type": "wait", "config": {"mode": "delay", "amount": 1, "unit": "days"}, "next": "again"},
    "again": {"type": "goto", "config": {"target": "tag"}},
}}


def start(account: Account, wf: Workflow, count: int) -> None:
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(count)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(current_app)


def age(log_ids: list[int], days: int) -> None:
    db.session.execute(update(ExecutionLog).where(ExecutionLog.id.in_(log_ids))
                       .values(finished_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def log_ids() -> list[int]:
    ids = list(db.session.scalars(select(ExecutionLog.id).order_by(ExecutionLog.id)))
    db.session.rollback()
    return ids


def test_old_logs_of_ended_runs_go_in_batches_and_recent_ones_stay(app, account):
    wf = make_workflow(account, QUICK)
    start(account, wf, 7)  # 14 log rows, every run completed
    ids = log_ids()
    assert len(ids) == 14
    age(ids[:9], days=91)
    age(ids[9:11], days=89)  # recent enough

    pruned = pruning.prune(batch=4)

    assert (pruned.deleted, pruned.batches, pruned.done) == (9, 3, True)
    assert log_ids() == ids[9:]
    assert passed_by_step(wf.id) == {"a": 7, "b": 7}
    assert pruning.prune(batch=4).deleted == 0


def test_the_logs_of_open_runs_stay_and_keep_their_loops_counted_once(app, account):
    wf = make_workflow(account, LOOP)
    start(account, wf, 2)  # both wait at "pause"
    age(log_ids(), days=365)

    assert pruning.prune().deleted == 0

    run_scheduled_jobs(current_app)  # a day later: each run passes "tag" again
    run_jobs(current_app)
    assert db.session.scalar(select(func.count()).where(ExecutionLog.step_id == "tag")) == 4
    assert passed_by_step(wf.id) == {"tag": 2, "pause": 2, "again": 2}

    db.session.execute(update(Enrollment).values(status="cancelled", finished_at=utcnow()))
    db.session.commit()
    assert pruning.prune().deleted == 4  # the first year's rows; today's stay
    assert passed_by_step(wf.id) == {"tag": 2, "pause": 2, "again": 2}


def test_zero_days_keeps_everything(app, account):
    wf = make_workflow(account, QUICK)
    start(account, wf, 2)
    age(log_ids(), days=10_000)
    current_app.config["EXECUTION_LOG_RETENTION_DAYS"] = 0
    assert pruning.prune() == pruning.Pruned(0, 0, True)
    assert len(log_ids()) == 4
    current_app.config["EXECUTION_LOG_RETENTION_DAYS"] = 30
    assert pruning.prune().deleted == 4
    assert passed_by_step(wf.id) == {"a": 2, "b": 2}


def test_one_worker_prunes_per_interval_unless_its_budget_ran_out(app, account, monkeypatch):
    monkeypatch.setattr(pruning, "BATCH_ROWS", 4)
    wf = make_workflow(account, QUICK)
    start(account, wf, 3)
    age(log_ids(), days=100)

    cut_short = pruning.prune_once_per(3600, budget_seconds=0)  # stops after its first batch...
    assert cut_short is not None and not cut_short.done
    assert get_redis().get(pruning.LOCK) is None  # ...and lets the next maintenance pass go on

    with_lock = pruning.prune_once_per(3600)
    assert with_lock is not None and with_lock.done and cut_short.deleted + with_lock.deleted == 6
    assert pruning.prune_once_per(3600) is None  # another worker's pass within the hour
    assert log_ids() == []


def test_the_job_prunes(app, account):
    wf = make_workflow(account, QUICK)
    start(account, wf, 1)
    age(log_ids(), days=100)
    assert jobs.prune_execution_logs() == {"deleted": 2, "batches": 1, "done": 1}
    assert passed_by_step(wf.id) == {"a": 1, "b": 1}
