"""An enroll request's contacts are rows numbered from 0: stored by the database for a filter, in
chunks for a listed request, and read by each batch as its own slice of positions."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from builder.api.workflows import runs
from builder.extensions import db
from builder.models import BulkEnrollment, BulkEnrollmentBatch, BulkEnrollmentContact, Enrollment
from jobqueue import enroll
from tests.engine.test_actions import flow
from tests.factories import make_contact, make_workflow, run_jobs

TAG_FLOW = flow({"t": {"type": "add_tag", "config": {"tag": "enrolled"}}})


def stored(bulk_id: int) -> list[tuple[int, int]]:
    return [tuple(row) for row in db.session.execute(
        select(BulkEnrollmentContact.position, BulkEnrollmentContact.contact_id)
        .where(BulkEnrollmentContact.bulk_id == bulk_id).order_by(BulkEnrollmentContact.position)
    )]


@pytest.fixture
def statements(app):
    """The SQL the app sends, with whether it went as executemany."""
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, executemany))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_filter_enrollment_is_numbered_by_the_database_and_each_batch_reads_its_slice(
        app, as_user, account, statements, monkeypatch):
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(7)]
    make_contact(account, first_name="Gone").deleted_at = func.now()  # the list does not show it
    db.session.commit()
    wf = make_workflow(account, TAG_FLOW)

    def no_list(*args, **kwargs):
        raise AssertionError("a filter's contacts must not pass through a Python list")

    monkeypatch.setattr(enroll, "_store_ids", no_list)
    statements.clear()
    resp = as_user("manager").post(f"/api/workflows/{wf.id}/enroll", json={
        "filter": {}, "drip": {"batch_size": 3, "interval_seconds": 0}})
    assert resp.status_code == 202, resp.json
    assert resp.json["total"] == 7 and resp.json["batch_size"] == 3

    inserts = [(sql, many) for sql, many in statements if sql.lstrip().upper().startswith(
        "INSERT INTO BULK_ENROLLMENT_CONTACTS")]
    assert len(inserts) == 1 and not inserts[0][1]  # one statement, not an executemany
    assert "SELECT" in inserts[0][0].upper() and "ROW_NUMBER()" in inserts[0][0].upper()

    newest_first = [c.id for c in reversed(contacts)]
    bulk = db.session.get(BulkEnrollment, resp.json["id"])
    assert stored(bulk.id) == list(enumerate(newest_first))
    assert bulk.batch_count == 3
    assert [enroll.contact_slice(bulk, i) for i in range(3)] == [
        newest_first[0:3], newest_first[3:6], newest_first[6:7]]
    assert enroll.contact_slice(bulk, 3) == []

    db.session.commit()
    run_jobs(app)
    db.session.expire_all()
    enrolled = {index: count for index, count in db.session.execute(
        select(BulkEnrollmentBatch.index, BulkEnrollmentBatch.enrolled).where(BulkEnrollmentBatch.bulk_id == bulk.id))}
    assert enrolled == {0: 3, 1: 3, 2: 1}
    by_source = set(db.session.scalars(select(Enrollment.contact_id).where(
        Enrollment.source_key == enroll.source_key(bulk.id))))
    assert by_source == set(newest_first)
    bulk = db.session.get(BulkEnrollment, bulk.id)
    assert (bulk.processed, bulk.enrolled, bulk.skipped) == (7, 7, 0) and bulk.finished_at is not None


def test_listed_ids_keep_their_order_and_are_deduplicated(app, account, monkeypatch):
    a, b, c, d = (make_contact(account, first_name=name) for name in "ABCD")
    wf = make_workflow(account, TAG_FLOW)
    monkeypatch.setattr(enroll, "INSERT_CHUNK", 2)  # the chunks' positions must run on across them
    bulk = enroll.create_request(wf, wf.published_version, [c.id, a.id, c.id, d.id, a.id, b.id], is_test=False,
                                 batch_size=2)
    order = [c.id, a.id, d.id, b.id]
    assert stored(bulk.id) == list(enumerate(order))
    assert (bulk.total, bulk.batch_count) == (4, 2)
    assert [enroll.contact_slice(bulk, i) for i in range(2)] == [order[:2], order[2:]]
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 4


def test_an_empty_request_is_finished_at_once(app, account):
    wf = make_workflow(account, TAG_FLOW)
    bulk = enroll.create_request(wf, wf.published_version, [], is_test=False)
    assert (bulk.total, bulk.batch_count) == (0, 0) and bulk.finished_at is not None
    assert stored(bulk.id) == []


def test_a_filter_over_the_limit_is_refused_before_anything_is_stored(app, as_user, account, monkeypatch):
    for i in range(3):
        make_contact(account, first_name=f"C{i}")
    wf = make_workflow(account, TAG_FLOW)
    manager = as_user("manager")
    monkeypatch.setattr(runs, "MAX_ENROLL_FILTER", 2)
    resp = manager.post(f"/api/workflows/{wf.id}/enroll", json={"filter": {}})
    assert resp.status_code == 422 and "more than 2 contacts" in resp.json["error"]["fields"]["filter"][0]
    assert db.session.scalar(select(func.count()).select_from(BulkEnrollment)) == 0
    monkeypatch.setattr(runs, "MAX_ENROLL_FILTER", 3)
    resp = manager.post(f"/api/workflows/{wf.id}/enroll", json={"filter": {}})
    assert resp.status_code == 202 and resp.json["total"] == 3


def test_the_filter_limit_is_a_million_and_listed_ids_stay_at_100000():
    assert runs.MAX_ENROLL_FILTER == 1_000_000 and runs.MAX_ENROLL == 100_000


def test_removing_a_workflow_removes_its_requests_contacts(app, account):
    from builder.domain.workflows import remove_workflow

    wf = make_workflow(account, TAG_FLOW)
    enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    remove_workflow(wf.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(BulkEnrollmentContact)) == 0


# --- the reconciler and batches still waiting in the queue ----------------------------------------

def test_batches_still_waiting_in_the_queue_are_not_enqueued_again(app, account):
    """At a million contacts the queue holds batches far longer than the reconciler's grace period."""
    from redis import Redis
    from rq.job import Job

    from jobqueue import recovery
    from jobqueue.queues import get_queue

    wf = make_workflow(account, TAG_FLOW)
    bulk = enroll.create_request(wf, wf.published_version, [make_contact(account).id for _ in range(3)],
                                 is_test=False, batch_size=1)
    queue = get_queue()
    assert queue.count == 3
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    recovery.reconcile()
    recovery.reconcile()
    assert queue.count == 3  # all three still queued: nothing added

    # Batch 0's job vanished (Redis lost it), batch 1's worker died while running it: both go again.
    redis = Redis.from_url(app.config["REDIS_URL"])
    redis.delete(Job.key_for(enroll.batch_job_id(bulk.id, 0)))
    redis.hset(Job.key_for(enroll.batch_job_id(bulk.id, 1)), "status", "started")
    assert enroll.schedule_batches(bulk, range(3)) == 2
    assert queue.count == 5
    run_jobs(app)
    db.session.expire_all()
    bulk = db.session.get(BulkEnrollment, bulk.id)
    assert (bulk.processed, bulk.enrolled) == (3, 3) and bulk.finished_at is not None
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 3


def test_a_second_run_of_a_batch_that_loses_the_claim_adds_nothing(app, account, monkeypatch):
    """Two runs of one batch at once: the one whose batch mark finds the other's counts nothing twice."""
    wf = make_workflow(account, TAG_FLOW)
    contacts = [make_contact(account).id for _ in range(2)]
    bulk = enroll.create_request(wf, wf.published_version, contacts, is_test=False)
    eligible = enroll._eligible

    def other_run_commits_first(*args, **kwargs):
        found = eligible(*args, **kwargs)
        db.session.add(BulkEnrollmentBatch(bulk_id=bulk.id, index=0, enrolled=2, skipped=0))
        db.session.execute(enroll.update(BulkEnrollment).where(BulkEnrollment.id == bulk.id)
                           .values(processed=2, enrolled=2))
        db.session.commit()
        return found

    monkeypatch.setattr(enroll, "_eligible", other_run_commits_first)
    assert enroll.create_batch_enrollments(bulk.id, 0) == []
    db.session.expire_all()
    bulk = db.session.get(BulkEnrollment, bulk.id)
    assert (bulk.processed, bulk.enrolled) == (2, 2)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
