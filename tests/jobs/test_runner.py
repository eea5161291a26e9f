"""The job layer's passes: one bad run does not hold up the others."""

from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Note
from jobqueue import enroll, runner
from tests.factories import make_contact, make_workflow

GRAPH = {"name": "n", "start": "a", "steps": {
    "a": {"type": "add_note", "config": {"body": "hi {{ contact.first_name }}"}, "next": None}}}


def test_a_run_that_cannot_be_saved_fails_alone(app, account):
    wf = make_workflow(account, GRAPH)
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(5)]
    bulk = enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    ids = enroll.create_batch_enrollments(bulk.id, 0)
    db.session.commit()
    # A row already holds the key the third run's note will use: saving it breaks the pass.
    bad = ids[2]
    db.session.add(Note(contact_id=contacts[2].id, body="left over", idempotency_key=f"{bad}:0"))
    db.session.commit()

    runner.advance(ids)

    runs = {r.id: r for r in db.session.scalars(select(Enrollment))}
    assert [runs[i].status for i in ids] == ["completed", "completed", "failed", "completed", "completed"]
    assert "IntegrityError" in runs[bad].error
    failed_log = db.session.scalar(select(ExecutionLog).where(ExecutionLog.enrollment_id == bad))
    assert failed_log.outcome == "failed" and "IntegrityError" in failed_log.error
    bodies = sorted(n.body for n in db.session.scalars(select(Note)))
    assert bodies == ["hi C0", "hi C1", "hi C3", "hi C4", "left over"]
