"""The copy of an internal notification emailed to each user (Send Internal Notification's "Also email it to
the user"), through the email outbox to a real local SMTP server: to the user's login address, once per
step run, without an unsubscribe link, never in the contact's conversation, and sent even when the
contact has email do-not-disturb on (it is not an email to them)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from builder.domain import timeline
from builder.extensions import db
from builder.integrations import email_settings
from builder.models import Email, ExecutionLog, Notification, utcnow
from jobqueue import recovery, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.smtp_server import SmtpServer


def flow(**config) -> dict:
    return {"name": "Notify", "start": "n", "steps": {"n": {"type": "internal_notification", "config": {
        "title": "New lead: {{ contact.first_name }}", "body": "Call {{ contact.name }}", **config}, "next": None}}}


def connect_smtp(app, account, port: int) -> None:
    app.config["PUBLIC_URL"] = "https://flowdesk.example"
    email_settings.save(account.id, host="127.0.0.1", port=port, security="none", username=None, password=None,
                        from_address="team@acme.test", from_name="Acme", reply_to=None, user_id=None)
    db.session.commit()


def run_flow(app, account, graph: dict, **contact_fields):
    contact = make_contact(account, first_name="Ada", last_name="Lovelace", **contact_fields)
    wf = make_workflow(account, graph)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return contact


def test_each_user_gets_the_copy_at_their_login_address(app, account, users):
    with SmtpServer() as smtp:
        connect_smtp(app, account, smtp.port)
        contact = run_flow(app, account, flow(recipients="role", role="agent", email_user=True), dnd_email=True)
    got = sorted(smtp.received, key=lambda r: r.rcpt_tos)
    assert [r.rcpt_tos for r in got] == [["agent2@acme.test"], ["agent@acme.test"]]
    message = got[0].message
    assert message["Subject"] == "New lead: Ada" and message["From"] == "Acme <team@acme.test>"
    assert message.get_body(("plain",)).get_content().splitlines() == ["New lead: Ada", "", "Call Ada Lovelace"]
    assert message["List-Unsubscribe"] is None  # a team member's copy: nothing to unsubscribe from
    emails = db.session.scalars(select(Email).order_by(Email.id)).all()
    assert [(e.user_id, e.status, e.provider) for e in emails] == [
        (users["agent"].id, "sent", "smtp"), (users["agent2"].id, "sent", "smtp")]
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [e.idempotency_key for e in emails] == [f"notification:{n.id}" for n in notes]
    log = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "n")).one()
    assert log.output["emailed_user_ids"] == [users["agent"].id, users["agent2"].id]
    # Not part of the contact's conversation.
    db.session.refresh(contact)
    assert all(item["kind"] != "email" for item in timeline.timeline(contact, limit=50)[0])


def test_without_the_option_no_copy_is_emailed(app, account, users):
    with SmtpServer() as smtp:
        connect_smtp(app, account, smtp.port)
        run_flow(app, account, flow(recipients="assigned_user"), assigned_user_id=users["agent"].id)
    assert smtp.received == [] and db.session.scalars(select(Email)).all() == []
    assert db.session.scalars(select(Notification.user_id)).all() == [users["agent"].id]


def test_a_refused_copy_fails_with_the_servers_reply_and_the_in_app_notification_stays(app, account, users):
    with SmtpServer() as smtp:
        connect_smtp(app, account, smtp.port)
        smtp.answer("550 5.1.1 No such mailbox")
        run_flow(app, account, flow(recipients="assigned_user", email_user=True), assigned_user_id=users["agent"].id)
    email = db.session.scalars(select(Email)).one()
    assert (email.status, email.error_code) == ("failed", "550") and "No such mailbox" in email.error
    assert db.session.scalars(select(Notification.user_id)).all() == [users["agent"].id]


def test_a_lost_send_is_sent_once_by_the_reconciler(app, account, users):
    with SmtpServer() as smtp:
        connect_smtp(app, account, smtp.port)
        contact = make_contact(account, assigned_user_id=users["agent"].id)
        wf = make_workflow(account, flow(recipients="assigned_user", email_user=True))
        bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
        runner.advance(create_batch_enrollments(bulk.id, 0))  # committed; its send job is never enqueued
        db.session.execute(update(Email).values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert smtp.received == []
        assert recovery.reconcile()["unsent_emails"] == 1
        run_jobs(app)
        assert recovery.reconcile()["unsent_emails"] == 0
        run_jobs(app)
    assert [r.rcpt_tos for r in smtp.received] == [["agent@acme.test"]]
    assert db.session.scalars(select(Email.status)).one() == "sent"
