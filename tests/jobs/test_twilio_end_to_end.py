"""Twilio end to end over real HTTP: a worker process sends a workflow's SMS through
the fake Twilio API; the fake then calls the running web server, as Twilio would,
with a signed delivery callback and a signed inbound reply, which a worker records; the reply
resolves the workflow's Wait for Customer Reply and its Replied branch runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import Contact, Enrollment, Message
from jobqueue.enroll import create_request
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer
from tests.factories import make_contact, make_workflow
from tests.fake_twilio import connect_account
from tests.workers import start_worker, stop, wait_for

pytestmark = pytest.mark.slow
SMS_FLOW = {"name": "Say hi", "start": "s", "steps": {
    "s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "w"},
    "w": {"type": "wait_for_reply", "config": {"timeout_amount": 1, "timeout_unit": "days",
                                               "replied_next": "yes", "timeout_next": "no"}},
    "yes": {"type": "add_tag", "config": {"tag": "replied"}},
    "no": {"type": "add_tag", "config": {"tag": "no-reply"}}}}


def run_state(contact_id: int) -> tuple[str, str | None, list[str]]:
    run = db.session.scalars(select(Enrollment).where(Enrollment.contact_id == contact_id)).one()
    state = (run.status, run.current_step, sorted(db.session.get(Contact, contact_id).tags))
    db.session.remove()
    return state


def messages() -> list[tuple[str, str, str, int]]:
    rows = db.session.execute(select(Message.direction, Message.status, Message.body, Message.contact_id)
                              .order_by(Message.id)).all()
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return [tuple(row) for row in rows]


def test_send_delivery_callback_and_reply_over_http(live_server: LiveServer, team, fake_twilio):
    app = live_server.app
    connect_account(app, fake_twilio, team["account"].id)
    app.config["PUBLIC_URL"] = live_server.url
    contact = make_contact(team["account"], first_name="Ada", phone="+14155551000")
    contact_id = contact.id
    wf = make_workflow(team["account"], SMS_FLOW)
    create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.remove()

    worker = start_worker(app, TWILIO_API_URL=fake_twilio.url, PUBLIC_URL=live_server.url, SECRET_KEY="test-secret")
    try:
        assert wait_for(lambda: messages() == [("outbound", "accepted", "Hi Ada", contact_id)], timeout=60), \
            stop(worker)
        [sent] = fake_twilio.created("Messages")
        assert sent.value("StatusCallback").startswith(f"{live_server.url}/webhooks/twilio/message-status")

        assert fake_twilio.message_status(sent.sid, "delivered").status == 204
        assert messages()[0][1] == "delivered"

        reply = fake_twilio.inbound_sms(f"{live_server.url}/webhooks/twilio/sms", from_="+14155551000",
                                        body="Yes please")
        assert reply.status == 200 and "<Response" in reply.text
        assert wait_for(lambda: len(messages()) == 2, timeout=60), stop(worker)
        # The reply resolves the wait and the Replied branch runs.
        assert wait_for(lambda: run_state(contact_id)[0] == "completed", timeout=60), run_state(contact_id)
    finally:
        stop(worker)
    assert messages()[1] == ("inbound", "received", "Yes please", contact_id)
    assert run_state(contact_id) == ("completed", None, ["replied"])
