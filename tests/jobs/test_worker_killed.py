"""SIGKILL a worker in the middle of a bulk enrollment; a new worker finishes the
job and no step's effect is applied twice."""

import time

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Contact, ContactTag, Enrollment, ExecutionLog, Message, Note
from tests.factories import bulk_enroll_new_contacts, make_workflow
from tests.workers import kill_hard, start_worker, stop, wait_for

pytestmark = pytest.mark.slow
N = 1500
GRAPH = {
    "name": "Four effects",
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "bulk"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "note for {{ contact.first_name }}"}, "next": "sms"},
        "sms": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "field"},
        "field": {"type": "update_contact_field", "config": {"field": "custom.stage", "value": "done"}, "next": None},
    },
}
FAST_RECOVERY = {"RECOVERY_GRACE_SECONDS": "1", "RECOVERY_INTERVAL_SECONDS": "1"}


def scalar(query):
    value = db.session.scalar(query)
    db.session.rollback()  # on SQLite a transaction holds the write lock: end it at once
    return value


def completed() -> int:
    return scalar(select(func.count()).where(Enrollment.status == "completed"))


def active() -> int:
    return scalar(select(func.count()).where(Enrollment.status == "active"))


def settled() -> bool:
    """All runs finished and the outbox empty: messages whose send the kill cut off
    after their step committed are picked up by the reconciler, not dropped."""
    unsent = scalar(select(func.count()).where(Message.status.in_(["queued", "sending"])))
    return completed() == N and unsent == 0


def per_contact_max(model) -> int:
    counts = select(func.count().label("n")).select_from(model).group_by(model.contact_id).subquery()
    return scalar(select(func.max(counts.c.n)))


def test_killed_worker_mid_bulk_enrollment_loses_and_repeats_nothing(app, account):
    bulk_enroll_new_contacts(account, make_workflow(account, GRAPH), N)

    first = start_worker(app, **FAST_RECOVERY)
    try:
        # Mid-batch: some of a claimed batch's runs done, others still active.
        assert wait_for(lambda: completed() >= 100 and active() > 0, timeout=60, interval=0.02), stop(first)
    finally:
        kill_hard(first)
    at_kill, stranded = completed(), active()
    assert 0 < at_kill < N, f"the kill should land mid-way, {at_kill} of {N} had finished"

    time.sleep(1.5)  # let the killed worker's work pass the recovery grace period
    second = start_worker(app, **FAST_RECOVERY)
    try:
        finished = wait_for(settled, timeout=120, interval=0.2)
    finally:
        output = stop(second)
    assert finished, f"{completed()} of {N} completed\n{output[-3000:]}"
    if stranded:
        # The killed batch's runs have no job left anywhere: only the reconciler can find them.
        # (A kill that lands between two batches strands nothing: the next ones still wait in the queue.)
        assert "reconciler re-enqueued lost work" in output

    # Every effect exactly once per contact.
    assert scalar(select(func.count()).select_from(Note)) == N
    assert per_contact_max(Note) == 1
    assert scalar(select(func.count()).select_from(ContactTag)) == N
    assert scalar(select(func.count()).select_from(Message)) == N
    assert per_contact_max(Message) == 1
    # A send cut short by the kill is marked unknown rather than sent again.
    assert scalar(select(func.count()).where(Message.status.not_in(["sent", "unknown"]))) == 0
    assert scalar(select(func.count()).select_from(ExecutionLog)) == 4 * N
    assert scalar(select(func.count()).where(ExecutionLog.outcome != "ok")) == 0
    stages = {c.custom_fields.get("stage") for c in db.session.scalars(select(Contact))}
    assert stages == {"done"}
