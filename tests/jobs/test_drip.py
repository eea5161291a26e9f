"""Drip (and Wait's time window) through the real engine, SqlStore, database (SQLite and PostgreSQL)
and RQ: batches of N per interval in arrival order, contacts waiting at the step until their batch's
timer; passes of concurrent workers never put more than N in a batch; the counter lives in the
database (a Redis restart changes nothing), counts test runs apart and goes on across versions."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from builder.domain import drip
from builder.domain.workflows import publish, save_version
from builder.extensions import db
from builder.models import DripCounter, Enrollment, ExecutionLog
from jobqueue import runner
from jobqueue.connection import get_redis
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.workers import start_worker, stop, wait_for

HOUR = timedelta(hours=1)


def drip_flow(batch_size: int = 3, amount: int = 1, unit: str = "hours") -> dict[str, Any]:
    return {"name": "Drip", "start": "d", "steps": {
        "d": {"type": "drip", "config": {"batch_size": batch_size, "interval_amount": amount, "interval_unit": unit},
              "next": "tag"},
        "tag": {"type": "add_tag", "config": {"tag": "dripped"}, "next": None},
    }}


def enroll(app, wf, contacts, *, is_test: bool = False) -> None:
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=is_test)
    run_jobs(app)


def drip_rows(**where) -> list[ExecutionLog]:
    return list(db.session.scalars(select(ExecutionLog).filter_by(step_id="d", **where).order_by(ExecutionLog.id)))


def batch_times(rows: list[ExecutionLog]) -> list[datetime]:
    """Each arrival's batch time, in arrival (counter) order."""
    return [datetime.fromisoformat(row.output["batch_at"]) for row in sorted(rows, key=lambda r: r.output["arrival"])]


def scheduled(app) -> list[str]:
    return ScheduledJobRegistry(queue=Queue(app.config["RQ_QUEUE"], connection=get_redis())).get_job_ids()


def test_seven_contacts_three_per_hour_go_in_slots_0_0_0_1h_1h_1h_2h(app, account, as_user):
    wf = make_workflow(account, drip_flow(3))
    enroll(app, wf, [make_contact(account) for _ in range(7)])
    times = batch_times(drip_rows())
    assert [t - times[0] for t in times] == [timedelta(0)] * 3 + [HOUR] * 3 + [2 * HOUR]
    runs = list(db.session.scalars(select(Enrollment).order_by(Enrollment.id)))
    assert Counter(r.status for r in runs) == {"completed": 3, "waiting": 4}
    assert sorted(r.wake_at for r in runs if r.status == "waiting") == times[3:]
    assert all(r.current_step == "d" for r in runs if r.status == "waiting")
    # The canvas shows them waiting at the step, and one timer each is set.
    stats = as_user("manager").get(f"/api/workflows/{wf.id}/stats").json["steps"]
    assert stats["d"]["waiting"] == 4 and stats["d"]["passed"] == 3
    assert len(scheduled(app)) == 4
    # Their batches' timers go off: each goes on and logs the step once more, as passed.
    run_scheduled_jobs(app)
    run_jobs(app)
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Enrollment))} == {"completed"}
    assert Counter(row.outcome for row in drip_rows()) == {"ok": 7, "waiting": 4}


def _advance_concurrently(app, groups: list[list[int]]) -> None:
    """Each group on a thread of its own (an app context and a database connection each), run by run, all
    starting together: passes of different workers at the same step, interleaved."""
    start = threading.Barrier(len(groups))
    errors: list[BaseException] = []

    def work(ids: list[int]) -> None:
        try:
            with app.app_context():
                start.wait()
                for enrollment_id in ids:
                    runner.advance([enrollment_id])
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids,)) for ids in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_concurrent_workers_never_put_more_than_the_batch_size_in_a_batch(app, account):
    wf = make_workflow(account, drip_flow(3))
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(30)]
    runs = [Enrollment(account_id=account.id, workflow_id=wf.id, version_id=wf.published_version.id,
                       contact_id=c.id, status="active", current_step="d", source_key=f"concurrent-{c.id}")
            for c in contacts]
    db.session.add_all(runs)
    db.session.commit()
    ids = [r.id for r in runs]
    db.session.rollback()  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE): end this one
    _advance_concurrently(app, [ids[0::3], ids[1::3], ids[2::3]])
    db.session.expire_all()
    rows = drip_rows()
    assert len(rows) == 30 and sorted(row.output["arrival"] for row in rows) == list(range(1, 31))
    per_batch = Counter(row.output["batch_at"] for row in rows)
    assert max(per_batch.values()) == 3 and len(per_batch) == 10
    times = batch_times(rows)
    assert times == sorted(times)  # the counter's order is the order batches go in
    first = times[0]
    assert sorted(per_batch) == [(first + k * HOUR).isoformat() for k in range(10)]
    counter = db.session.get(DripCounter, (wf.id, False, "d"))
    assert (counter.arrivals, counter.in_batch, counter.batch_at) == (30, 3, first + 9 * HOUR)


@pytest.mark.slow
def test_two_worker_processes_share_the_batches(app, account):
    # Real `flask worker` processes, each taking enroll requests off the queue and running their passes.
    wf = make_workflow(account, drip_flow(4))
    contacts = [make_contact(account).id for _ in range(24)]
    db.session.rollback()  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE): end this one

    def logged() -> int:
        count = len(drip_rows())
        db.session.rollback()
        return count

    workers = [start_worker(app), start_worker(app)]
    try:
        # Both listening before the work arrives, so they take the requests between them.
        assert wait_for(lambda: Worker.count(connection=get_redis()) == 2, timeout=30), [stop(w) for w in workers]
        for i in range(6):
            create_request(wf, wf.published_version, contacts[i * 4:(i + 1) * 4], is_test=False)
        db.session.rollback()
        assert wait_for(lambda: logged() == 24, timeout=60), [stop(w) for w in workers]
    finally:
        for w in workers:
            stop(w)
    rows = drip_rows()
    per_batch = Counter(row.output["batch_at"] for row in rows)
    assert sorted(per_batch.values()) == [4] * 6
    times = batch_times(rows)
    assert times == sorted(times) and sorted(per_batch) == [(times[0] + k * HOUR).isoformat() for k in range(6)]


def test_the_counter_outlives_a_redis_restart(app, account):
    wf = make_workflow(account, drip_flow(1))
    enroll(app, wf, [make_contact(account)])
    get_redis().flushdb()  # Redis lost everything: the timers too (the reconciler finds those in the database)
    enroll(app, wf, [make_contact(account)])
    times = batch_times(drip_rows())
    assert times[1] - times[0] == HOUR


def test_test_runs_have_a_counter_of_their_own(app, account):
    wf = make_workflow(account, drip_flow(1))
    enroll(app, wf, [make_contact(account)])
    enroll(app, wf, [make_contact(account)], is_test=True)
    enroll(app, wf, [make_contact(account)])
    live = batch_times(drip_rows(is_test=False))
    assert live[1] - live[0] == HOUR
    test_row = drip_rows(is_test=True)[0]
    assert test_row.outcome == "ok" and test_row.output["arrival"] == 1


def test_a_new_version_goes_on_with_the_same_counter(app, account):
    wf = make_workflow(account, drip_flow(1))
    enroll(app, wf, [make_contact(account)])
    save_version(wf, drip_flow(1, 2, "hours"), author_id=None)
    publish(wf, None, by=None)
    db.session.commit()
    enroll(app, wf, [make_contact(account)])
    rows = drip_rows()
    assert [row.version_id for row in rows][0] != rows[1].version_id
    # The step kept its id, so the pacing goes on: no fresh burst for the new version (at its new interval).
    assert batch_times(rows)[1] - batch_times(rows)[0] == 2 * HOUR


def test_a_contact_entering_again_takes_a_new_place(app, account):
    flow = {**drip_flow(1), "settings": {"allow_reentry": True}}
    wf = make_workflow(account, flow)
    contact = make_contact(account)
    enroll(app, wf, [contact])
    enroll(app, wf, [contact])
    rows = drip_rows()
    assert [row.output["arrival"] for row in rows] == [1, 2]
    assert batch_times(rows)[1] - batch_times(rows)[0] == HOUR


def test_a_wait_for_a_time_window_waits_in_the_contacts_zone_and_goes_on(app, account):
    # Every day, but a one-minute window 12 hours from now in UTC: the contact waits for it.
    now = datetime.utcnow()  # noqa: DTZ003  (naive UTC, as the engine's clock)
    opens = now + timedelta(hours=12)
    start, end = opens.strftime("%H:%M"), (opens + timedelta(minutes=1)).strftime("%H:%M")
    if end <= start:  # across midnight: keep the test simple, shift by an hour
        opens += timedelta(hours=1)
        start, end = opens.strftime("%H:%M"), (opens + timedelta(minutes=1)).strftime("%H:%M")
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    flow = {"name": "Window", "start": "w", "steps": {
        "w": {"type": "wait", "config": {"mode": "window", "window_days": days, "window_start": start,
                                         "window_end": end}, "next": "tag"},
        "tag": {"type": "add_tag", "config": {"tag": "in-window"}, "next": None},
    }}
    wf = make_workflow(account, flow)
    enroll(app, wf, [make_contact(account, timezone="UTC")])
    run = db.session.scalars(select(Enrollment)).one()
    assert run.status == "waiting" and run.wake_at == opens.replace(second=0, microsecond=0)
    assert len(scheduled(app)) == 1
    run_scheduled_jobs(app)
    run_jobs(app)
    db.session.expire_all()
    assert db.session.get(Enrollment, run.id).status == "completed"


def test_a_pass_that_does_not_commit_gives_its_place_back(app, account):
    wf = make_workflow(account, drip_flow(1))
    now = datetime(2030, 1, 7, 10, 0)
    assert drip.take_place(db.session, wf.id, False, "d", 1, HOUR, now) == (now, 1)
    db.session.rollback()  # the pass failed: its arrival never happened
    assert drip.take_place(db.session, wf.id, False, "d", 1, HOUR, now) == (now, 1)
    assert drip.take_place(db.session, wf.id, False, "d", 1, HOUR, now) == (now + HOUR, 2)
    db.session.commit()
    assert drip.take_place(db.session, wf.id, True, "d", 1, HOUR, now) == (now, 1)  # test runs apart
