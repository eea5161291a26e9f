"""The builder's "passed" counts come from counters the engine keeps as it logs (builder.domain.step_counts):
each must equal the distinct runs the execution log shows passing the step, and stay so once logs go."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from builder.domain import step_counts
from builder.domain.store import SqlStore
from builder.domain.workflow_stats import passed_by_step, step_stats
from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Note, StepCount, utcnow
from jobqueue import enroll, runner
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

# tag -> pause (a day) -> again (goto tag): every resume passes `tag` again.
LOOP = {"name": "Loop", "start": "tag", "steps": {
    "tag": {"type": "add_tag", "config": {"tag": "looped"}, "next": "pause"},
    "pause": {"type": "wait", "config": {"mode": "delay", "amount": 1, "unit": "days"}, "next": "again"},
    "again": {"type": "goto", "config": {"target": "tag"}},
}}
QUICK = {"name": "Quick", "start": "a", "steps": {
    "a": {"type": "add_note", "config": {"body": "hi {{ contact.first_name }}"}, "next": "b"},
    "b": {"type": "add_tag", "config": {"tag": "b"}, "next": None},
}}


def counted_from_logs() -> dict[tuple[int, bool, str], int]:
    """What the builder used to count: distinct runs per step with a passing log row."""
    rows = db.session.execute(
        select(ExecutionLog.workflow_id, ExecutionLog.is_test, ExecutionLog.step_id,
               func.count(func.distinct(ExecutionLog.enrollment_id)))
        .where(ExecutionLog.outcome.in_(step_counts.PASSED_OUTCOMES))
        .group_by(ExecutionLog.workflow_id, ExecutionLog.is_test, ExecutionLog.step_id)
    )
    return {(wid, bool(test), sid): n for wid, test, sid, n in rows}


def counters() -> dict[tuple[int, bool, str], int]:
    return {(c.workflow_id, c.is_test, c.step_id): c.passed for c in db.session.scalars(select(StepCount))}


def start(wf, contacts, *, test: bool = False) -> None:
    version = wf.latest_version() if test else wf.published_version
    enroll.create_request(wf, version, [c.id for c in contacts], is_test=test)
    run_jobs(current_app)


def next_day() -> None:
    run_scheduled_jobs(current_app)
    run_jobs(current_app)


def test_a_goto_loop_counts_each_run_once_per_step(app, account):
    wf = make_workflow(account, LOOP)
    start(wf, [make_contact(account, first_name="A"), make_contact(account, first_name="B")])
    assert passed_by_step(wf.id) == {"tag": 2}
    next_day()
    tags = db.session.scalar(select(func.count()).where(
        ExecutionLog.step_id == "tag", ExecutionLog.outcome.in_(step_counts.PASSED_OUTCOMES)))
    assert tags == 4  # each run passed it twice (the second time skipped: the tag was there)...
    assert passed_by_step(wf.id) == {"tag": 2, "pause": 2, "again": 2}  # ...and counts once
    assert step_stats(wf.id, ["tag", "pause", "again"])["steps"]["pause"] == {"waiting": 2, "passed": 2}
    assert counters() == counted_from_logs()


def test_test_runs_are_counted_apart_from_live_ones(app, account):
    wf = make_workflow(account, QUICK)
    grace = make_contact(account, first_name="Grace")
    start(wf, [grace, make_contact(account, first_name="Ada")])
    start(wf, [grace], test=True)
    start(wf, [grace], test=True)  # a second test run is another run
    assert passed_by_step(wf.id) == {"a": 2, "b": 2}
    assert passed_by_step(wf.id, test=True) == {"a": 2, "b": 2}
    start(wf, [make_contact(account, first_name="Alan")], test=True)
    assert passed_by_step(wf.id) == {"a": 2, "b": 2}
    assert passed_by_step(wf.id, test=True) == {"a": 3, "b": 3}
    assert counters() == counted_from_logs()


def test_counts_stay_when_the_logs_are_gone(app, account):
    wf = make_workflow(account, QUICK)
    start(wf, [make_contact(account, first_name=f"C{i}") for i in range(3)])
    db.session.execute(delete(ExecutionLog))
    db.session.commit()
    assert passed_by_step(wf.id) == {"a": 3, "b": 3}
    start(wf, [make_contact(account, first_name="Late")])
    assert passed_by_step(wf.id) == {"a": 4, "b": 4}


def test_only_passing_outcomes_count(app, account):
    wf = make_workflow(account, {"name": "Parked", "start": "call", "steps": {
        "call": {"type": "manual_call", "config": {}, "next": None}}})
    start(wf, [make_contact(account)])
    assert db.session.scalar(select(ExecutionLog.outcome)) == "parked"
    assert passed_by_step(wf.id) == {}
    assert counters() == {}


def test_a_pass_that_does_not_commit_counts_nothing(app, account):
    """The counters are written in the pass's transaction: a pass cut short (a killed worker) and run again
    counts once."""
    wf = make_workflow(account, QUICK)
    bulk = enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    ids = enroll.create_batch_enrollments(bulk.id, 0)
    db.session.commit()
    run = db.session.get(Enrollment, ids[0])
    store = SqlStore(db.session, account.id, lambda key: 0)
    store.log_step({"enrollment_id": run.id, "workflow_id": wf.id, "version_id": run.version_id,
                    "contact_id": run.contact_id, "step_id": "a", "step_type": "add_note",
                    "idempotency_key": f"{run.id}:0", "input": {}, "outcome": "ok", "output": {}, "is_test": False,
                    "started_at": utcnow(), "finished_at": utcnow(), "duration_ms": 0.0})
    store.flush_batched()
    assert passed_by_step(wf.id) == {"a": 1}  # inside the transaction
    db.session.rollback()
    assert passed_by_step(wf.id) == {}

    runner.advance(ids)
    runner.advance(ids)  # the job delivered twice: the run has moved on
    assert passed_by_step(wf.id) == {"a": 1, "b": 1}


def test_a_step_run_logged_twice_counts_once(app, account):
    """A retried step run reuses its idempotency key: its second log row is refused, and with it the count."""
    wf = make_workflow(account, QUICK)
    start(wf, [make_contact(account)])
    row = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "a")).one()
    columns = {c.name: getattr(row, c.name) for c in ExecutionLog.__table__.columns if c.name != "id"}
    db.session.rollback()
    store = SqlStore(db.session, account.id, lambda key: 0)
    store.log_step(columns)
    with pytest.raises(IntegrityError):
        store.flush_batched()
    db.session.rollback()
    assert passed_by_step(wf.id) == {"a": 1, "b": 1}


def test_a_pass_retried_run_by_run_counts_each_run_once(app, account):
    wf = make_workflow(account, QUICK)
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(5)]
    bulk = enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    ids = enroll.create_batch_enrollments(bulk.id, 0)
    db.session.commit()
    # A note already holds the key the third run's note will use: the pass breaks, then goes run by run.
    db.session.add(Note(contact_id=contacts[2].id, body="left over", idempotency_key=f"{ids[2]}:0"))
    db.session.commit()

    runner.advance(ids)

    assert passed_by_step(wf.id) == {"a": 4, "b": 4}  # the third run failed at "a"
    assert counters() == counted_from_logs()


def test_removing_a_workflow_removes_its_counts(app, account):
    from builder.domain.workflows import remove_workflow

    wf = make_workflow(account, QUICK)
    start(wf, [make_contact(account)])
    remove_workflow(wf.id)
    db.session.commit()
    assert counters() == {}


def test_first_passes_look_at_the_runs_earlier_rows_and_the_batch(app, account):
    wf = make_workflow(account, LOOP)
    start(wf, [make_contact(account)])  # logged run 1's "tag" (ok) and "pause" (waiting)
    run = db.session.scalars(select(Enrollment)).one()

    def row(run_id: int, seq: int, step: str, outcome: str = "ok") -> dict:
        return {"enrollment_id": run_id, "workflow_id": wf.id, "step_id": step, "outcome": outcome,
                "is_test": False, "idempotency_key": f"{run_id}:{seq}"}

    batch = [row(run.id, 2, "pause"), row(run.id, 3, "again"), row(run.id, 4, "tag", "skipped"),
             row(run.id, 5, "pause", "waiting"),
             # a run new in this batch (its step run 0), through a loop within the batch
             row(999, 0, "tag"), row(999, 1, "again"), row(999, 2, "tag"), row(999, 3, "again", "failed")]
    assert step_counts.first_passes(db.session, batch) == {
        (wf.id, False, "pause"): 1, (wf.id, False, "again"): 2, (wf.id, False, "tag"): 1}
