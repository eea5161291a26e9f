"""A webhook's JSON response feeds a later step's text, through the real engine, database, RQ jobs and a
local HTTP server: the run keeps the response fields the text reads, from the step's final output."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Message
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.http_receiver import http_receiver


@pytest.fixture
def receiver(app):
    with http_receiver(app) as got:
        yield got


def test_a_webhooks_json_response_is_merged_into_a_later_sms(app, account, receiver):
    graph = {"name": "Order status", "start": "hook", "steps": {
        "hook": {"type": "webhook", "config": {"url": receiver.base + "/orders?contact={{ contact.id }}",
                                               "method": "GET"}, "next": "text"},
        "text": {"type": "send_sms", "config": {"message": (
            "Hi {{ contact.first_name }}, order {{ steps.hook.body.order.id }} is "
            "{{ steps.hook.body.order.status | lower }} (HTTP {{ steps.hook.status }})")}, "next": None},
    }}
    receiver.answer(200, {"order": {"id": "A-17", "status": "SHIPPED"}, "eta": "Tue"})
    contact = make_contact(account, first_name="Ada")
    wf = make_workflow(account, graph)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)

    assert len(receiver.received) == 1
    db.session.expire_all()
    [sms] = db.session.scalars(select(Message).where(Message.contact_id == contact.id)).all()
    assert sms.body == "Hi Ada, order A-17 is shipped (HTTP 200)"
    run = db.session.scalars(select(Enrollment)).one()
    assert run.status == "completed"
    # The final output (the response), not the parked one ("queued"); only the fields the text reads
    # (status and body; not headers, attempts...).
    assert run.vars == {"hook": {"status": 200, "body": {"order": {"id": "A-17", "status": "SHIPPED"},
                                                         "eta": "Tue"}}}
    parked, done = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "hook")
                                      .order_by(ExecutionLog.id)).all()
    assert parked.output["status"] == "queued" and done.output["status"] == 200
