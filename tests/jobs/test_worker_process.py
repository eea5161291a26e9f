"""A separate `flask --app app worker` process runs a workflow, waits included."""

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Note
from jobqueue import enroll
from tests.factories import make_contact, make_workflow
from tests.workers import start_worker, stop, wait_for

pytestmark = pytest.mark.slow

GRAPH = {
    "name": "Wait then note",
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "waiting"}, "next": "wait"},
        "wait": {"type": "wait", "config": {"amount": 1, "unit": "seconds"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "Done waiting, {{ contact.first_name }}"}, "next": None},
    },
}


def completed() -> int:
    # End the read transaction right away: on SQLite every transaction holds the write lock.
    count = db.session.scalar(select(func.count()).where(Enrollment.status == "completed"))
    db.session.rollback()
    return count


def test_worker_process_runs_waits_with_the_rq_scheduler(app, account):
    wf = make_workflow(account, GRAPH)
    contacts = [make_contact(account, first_name=f"P{i}") for i in range(3)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    worker = start_worker(app)
    try:
        assert wait_for(lambda: completed() == 3, timeout=30), stop(worker)
    finally:
        output = stop(worker)
    notes = sorted(n.body for n in db.session.scalars(select(Note)))
    assert notes == ["Done waiting, P0", "Done waiting, P1", "Done waiting, P2"]
    waits = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "wait")).all()
    # Each wait logs twice: when it starts waiting and when the timer resumes it.
    assert sorted(w.outcome for w in waits) == ["ok"] * 3 + ["waiting"] * 3
    assert "enroll_batch" in output
