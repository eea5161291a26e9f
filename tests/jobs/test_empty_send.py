"""A send whose text renders empty is skipped with the reason logged, never sent; the run goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import CustomField, Enrollment, ExecutionLog, Message, Note
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs

REASON = "rendered text is empty"


def run_through(app, account, step: dict, **contact_fields) -> dict[str, ExecutionLog]:
    """One real run of `step` then a tag step, through the queue and the SQL store."""
    wf = make_workflow(account, {"name": "Empty", "start": "s", "steps": {
        "s": {**step, "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "after"}, "next": None}}})
    contact = make_contact(account, **contact_fields)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    assert db.session.scalar(select(Enrollment.status)) == "completed"
    return {row.step_id: row for row in db.session.scalars(select(ExecutionLog).order_by(ExecutionLog.id))}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def colour(account):
    db.session.add(CustomField(account_id=account.id, key="colour", label="Colour", type="text"))
    db.session.commit()


@pytest.mark.parametrize(("message", "contact_fields"), [
    ("{{ contact.colour }}", {}),  # a defined custom field the contact has no value for
    ("{{ contact.first_name | trim }}", {"first_name": "   "}),  # whitespace only counts as empty
    ("{% if contact.custom.colour %}Your colour: {{ contact.colour }}{% endif %}", {}),
])
def test_send_sms_rendering_empty_is_skipped_not_sent(app, account, colour, message, contact_fields):
    logged = run_through(app, account, {"type": "send_sms", "config": {"message": message}}, **contact_fields)
    assert count(Message) == 0
    assert logged["s"].outcome == "skipped" and logged["s"].output["reason"] == REASON
    assert logged["t"].outcome == "ok"  # the run went on


def test_send_sms_with_text_is_sent(app, account, colour):
    logged = run_through(app, account, {"type": "send_sms", "config": {
        "message": "Hi {{ contact.first_name | default('there') }}"}}, first_name="")
    assert logged["s"].outcome == "ok"
    assert db.session.scalar(select(Message.body)) == "Hi there"


def test_add_note_rendering_empty_is_skipped(app, account, colour):
    logged = run_through(app, account, {"type": "add_note", "config": {"body": "{{ contact.colour }}"}})
    assert count(Note) == 0
    assert logged["s"].outcome == "skipped" and logged["s"].output["reason"] == REASON
