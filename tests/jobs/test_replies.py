"""Inbound SMS reactions: STOP/START/HELP, waits for a reply, stop on response, customer-replied triggers."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

import jobqueue.replies  # noqa: F401  (registers the reactions, as the worker does)
from builder.extensions import db
from builder.models import Contact, Enrollment, ExecutionLog, ManualAction, Message
from jobqueue import inbound
from jobqueue.replies import keyword
from tests.engine.test_actions import enroll, flow, fresh
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

_sids = itertools.count(1)
PHONE = "+14155551000"


def reply(account, body: str, phone: str = PHONE, sid: str | None = None) -> inbound.InboundSms | None:
    """An inbound SMS as the webhook stores it, then processed as the worker does."""
    event_id, _ = inbound.accept(account.id, {"MessageSid": sid or f"SM{next(_sids):032d}", "From": phone,
                                              "To": "+15005550006", "Body": body})
    return inbound.process_event(event_id)


def outbound() -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.direction == "outbound").order_by(Message.id)))


def step_log(run: Enrollment) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(ExecutionLog).where(ExecutionLog.enrollment_id == run.id)
                              .order_by(ExecutionLog.id))
    return [(r.step_id, r.outcome) for r in rows]


@pytest.mark.parametrize(("body", "word"), [
    ("STOP", "stop"), (" Stop! ", "stop"), ("unsubscribe", "unsubscribe"), ("help?", "help"),
    ("stop texting me", None), ("", None),
])
def test_a_keyword_is_the_whole_message(body, word):
    assert keyword(body) == word


# --- consent -------------------------------------------------------------

@pytest.mark.parametrize("word", ["STOP", "unsubscribe", "Cancel", "end", "QUIT", "stopall"])
def test_opt_out_words_turn_sms_dnd_on_and_later_sends_are_refused(app, account, word):
    contact = make_contact(account, phone=PHONE)
    reply(account, word)
    assert fresh(contact).dnd_sms is True
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}))
    enroll(app, wf, [contact])
    assert outbound() == []
    (row,) = db.session.scalars(select(ExecutionLog).where(ExecutionLog.workflow_id == wf.id))
    assert (row.outcome, row.output["reason"]) == ("skipped", "contact has SMS do-not-disturb on")


def test_start_subscribes_again(app, account):
    contact = make_contact(account, phone=PHONE)
    reply(account, "STOP")
    reply(account, "start")
    assert fresh(contact).dnd_sms is False


def test_help_gets_an_automatic_reply_once(app, account):
    make_contact(account, phone=PHONE)
    assert reply(account, "HELP", sid="SM-help") is not None
    run_jobs(app)
    (message,) = outbound()
    assert "reply STOP to unsubscribe" in message.body and message.to_number == PHONE
    assert message.status == "sent"  # through the console provider
    assert reply(account, "HELP", sid="SM-help") is None  # Twilio posting it again sends nothing more
    run_jobs(app)
    assert len(outbound()) == 1


# --- wait for customer reply ---------------------------------------------

TEXT_THEN_WAIT = {
    "s": {"type": "send_sms", "config": {"message": "Still interested, {{ contact.first_name }}?"}, "next": "w"},
    "w": {"type": "wait_for_reply", "config": {"timeout_amount": 2, "timeout_unit": "days",
                                               "replied_next": "yes", "timeout_next": "no"}},
    "yes": {"type": "add_tag", "config": {"tag": "replied"}},
    "no": {"type": "add_tag", "config": {"tag": "silent"}},
}


def test_the_product_docs_scenario_automated_sms_then_manual_sms_then_the_reply(app, account, users, as_user):
    """An automated SMS, then an agent's manual SMS, then the reply: the wait still resolves."""
    contact = make_contact(account, phone=PHONE, assigned_user_id=users["agent"].id)
    waiting = make_workflow(account, flow(TEXT_THEN_WAIT))
    enroll(app, waiting, [contact])
    run = db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == waiting.id)).one()
    assert (run.status, run.current_step) == ("waiting", "w")

    # The agent texts the contact from another workflow's Manual SMS, after the automated one went out.
    manual = make_workflow(account, flow({"m": {"type": "manual_sms", "config": {"message": "Call me back?"}}}))
    enroll(app, manual, [contact])
    action = db.session.scalars(select(ManualAction)).one()
    res = as_user("agent").post(f"/api/manual-actions/{action.id}/complete", json={"message": "Call me back?"})
    assert res.status_code == 200, res.json
    run_jobs(app)
    assert [m.body for m in outbound()] == ["Still interested, Ada?", "Call me back?"]

    reply(account, "yes, still interested")
    run_jobs(app)
    run = fresh(run)
    assert run.status == "completed" and fresh(contact).tags == ["replied"]
    assert step_log(run) == [("s", "ok"), ("w", "waiting"), ("w", "ok"), ("yes", "ok")]
    # The time-out timer fires later and finds nothing to do.
    run_scheduled_jobs(app)
    run_jobs(app)
    assert fresh(contact).tags == ["replied"]


def test_a_reply_resolves_every_wait_of_the_contact_and_no_other_contacts(app, account):
    contact = make_contact(account, phone=PHONE)
    other = make_contact(account, phone="+14155552000", first_name="Bo")
    first, second = make_workflow(account, flow(TEXT_THEN_WAIT)), make_workflow(account, flow(TEXT_THEN_WAIT))
    enroll(app, first, [contact, other])
    enroll(app, second, [contact])
    reply(account, "hi")
    run_jobs(app)
    runs = db.session.scalars(select(Enrollment).order_by(Enrollment.id)).all()
    assert {(r.contact_id, r.status) for r in runs} == {(contact.id, "completed"), (other.id, "waiting")}
    assert fresh(other).tags == []


# --- stop on response -----------------------------------------------------

def test_stop_on_response_ends_the_run_and_clears_its_queued_action(app, account, users):
    contact = make_contact(account, phone=PHONE, assigned_user_id=users["agent"].id)
    steps = {"m": {"type": "manual_call", "config": {}, "next": "t"},
             "t": {"type": "add_tag", "config": {"tag": "called"}}}
    stopping = make_workflow(account, flow(steps, stop_on_response=True))
    going_on = make_workflow(account, flow({"w": {"type": "wait", "config": {"amount": 1, "unit": "days"}}}))
    enroll(app, stopping, [contact])
    enroll(app, going_on, [contact])
    reply(account, "please stop calling, text instead")
    run_jobs(app)
    stopped = db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == stopping.id)).one()
    assert stopped.status == "cancelled" and "stops on response" in stopped.error
    assert db.session.scalars(select(ManualAction)).one().status == "deleted"
    other = db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == going_on.id)).one()
    assert other.status == "waiting"  # only workflows set to stop on response end
    assert fresh(contact).tags == []


# --- customer replied trigger ----------------------------------------------

def test_customer_replied_workflows_start_for_matching_replies_only(app, account):
    contact = make_contact(account, phone=PHONE)
    make_workflow(account, {
        "name": "Pricing replies", "trigger": {"type": "customer_replied", "config": {"keywords": ["price"]}},
        "start": "t", "steps": {"t": {"type": "add_tag", "config": {"tag": "asked-price"}}}})
    reply(account, "hello")
    run_jobs(app)
    assert fresh(contact).tags == []
    reply(account, "What's the PRICE?")
    run_jobs(app)
    assert fresh(contact).tags == ["asked-price"]


def test_an_opt_out_starts_no_reply_workflow(app, account):
    contact = make_contact(account, phone=PHONE)
    make_workflow(account, {"name": "Any reply", "trigger": {"type": "customer_replied", "config": {}},
                            "start": "t", "steps": {"t": {"type": "add_tag", "config": {"tag": "replied"}}}})
    reply(account, "STOP")
    run_jobs(app)
    assert fresh(contact).tags == [] and db.session.scalars(select(Enrollment)).all() == []


def test_a_reply_from_a_new_number_files_under_a_new_contact_and_can_trigger(app, account):
    make_workflow(account, {"name": "Any reply", "trigger": {"type": "customer_replied", "config": {}},
                            "start": "t", "steps": {"t": {"type": "add_tag", "config": {"tag": "replied"}}}})
    sms = reply(account, "who is this?", phone="+14155553000")
    run_jobs(app)
    contact = db.session.get(Contact, sms.contact_id)
    assert sms.new_contact and contact.phone == "+14155553000" and contact.tags == ["replied"]


def test_a_scheduled_sms_to_someone_who_opted_out_since_is_refused_at_send_time(app, account):
    from datetime import timedelta

    from builder.models import utcnow
    from jobqueue import outbox

    contact = make_contact(account, phone=PHONE)
    message = Message(account_id=account.id, contact_id=contact.id, direction="outbound", to_number=PHONE,
                      body="Reminder for tomorrow", status="queued", send_at=utcnow() - timedelta(seconds=1),
                      idempotency_key="scheduled:1")
    db.session.add(message)
    db.session.commit()
    reply(account, "STOP")
    outbox.deliver([message.id])
    message = fresh(message)
    assert (message.status, message.error_code) == ("failed", "dnd")
    assert "do-not-disturb" in message.error and message.sent_at is None


def test_the_worker_registers_the_reactions():
    import jobqueue.jobs  # noqa: F401
    from jobqueue.replies import react

    assert inbound.REACTIONS.count(react) == 1
