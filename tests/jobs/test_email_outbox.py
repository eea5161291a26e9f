"""Send Email through the email outbox to a real local SMTP server (aiosmtpd), reading what it received:
the message (headers, both bodies, the unsubscribe link), the account's SMTP login with its sealed
password, retries on 451, a 550 failing with the server's reply, DND read at send time, a send cut short
marked unknown and never sent again, and the reconciler sending what a lost job left queued."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from builder.extensions import db
from builder.integrations import email_settings
from builder.models import Contact, Email, EmailSettings, utcnow
from jobqueue import effects, email_outbox, recovery, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.smtp_server import SmtpServer

PUBLIC_URL = "https://flowdesk.example"
FLOW = {"name": "Welcome email", "start": "e", "steps": {"e": {"type": "send_email", "config": {
    "subject": "Welcome, {{ contact.first_name }}", "text_body": "Hi {{ contact.first_name }}, thanks for joining.",
    "html_body": "<p>Hi {{ contact.first_name }}</p>"}}}}


@pytest.fixture
def smtp(app, account):
    with SmtpServer() as recorder:
        recorder.logins["mailer"] = "s3cret-pass"
        app.config["PUBLIC_URL"] = PUBLIC_URL
        app.config["EMAIL_RETRY_DELAYS"] = [0]  # one retry, right away, taken by the same burst of jobs
        email_settings.save(account.id, host="127.0.0.1", port=recorder.port, security="none", username="mailer",
                            password="s3cret-pass", from_address="hello@acme.test", from_name="Acme Team",
                            reply_to="support@acme.test", user_id=None)
        db.session.commit()
        yield recorder


def send_to(app, account, **fields) -> Contact:
    contact = make_contact(account, first_name="Ann", email="ann@example.com", **fields)
    wf = make_workflow(account, FLOW)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return contact


def the_email() -> Email:
    db.session.expire_all()
    return db.session.scalars(select(Email)).one()


def queue_without_sending(account) -> tuple[Email, object]:
    """Run the step (the email is queued and committed) but keep what happens after the commit."""
    contact = make_contact(account, first_name="Ann", email="ann@example.com")
    wf = make_workflow(account, FLOW)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    after = runner.advance(create_batch_enrollments(bulk.id, 0))
    return the_email(), after


def test_the_email_reaches_the_smtp_server_with_its_sender_bodies_and_unsubscribe_link(app, account, smtp):
    contact = send_to(app, account)
    [got] = smtp.received
    assert (got.mail_from, got.rcpt_tos, got.login) == ("hello@acme.test", ["ann@example.com"], "mailer")
    message = got.message
    assert message["Subject"] == "Welcome, Ann"
    assert message["From"] == "Acme Team <hello@acme.test>" and message["Reply-To"] == "support@acme.test"
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(PUBLIC_URL + "/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hi Ann, thanks for joining." in text and link in text
    assert "<p>Hi Ann</p>" in html and f'href="{link}"' in html
    email = the_email()
    assert (email.status, email.provider, email.attempts, email.error) == ("sent", "smtp", 1, None)
    assert email.message_id_header == message["Message-ID"]
    # The link works: one click turns email DND on.
    response = app.test_client().post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).dnd_email is True


def test_the_password_is_stored_sealed(app, account, smtp):
    row = db.session.get(EmailSettings, account.id)
    assert row.password_encrypted and "s3cret-pass" not in row.password_encrypted
    assert "s3cret-pass" not in repr(email_settings.settings_for(account.id))


def test_a_temporary_refusal_is_retried_and_the_email_sent_once(app, account, smtp):
    smtp.answer("451 4.3.0 Mailbox busy, try again later")
    send_to(app, account)
    assert len(smtp.received) == 1
    email = the_email()
    assert (email.status, email.attempts, email.error) == ("sent", 2, None)


def test_temporary_refusals_fail_the_email_once_the_retries_run_out(app, account, smtp):
    smtp.answer("451 4.3.0 Mailbox busy", "451 4.3.0 Still busy")
    send_to(app, account)
    email = the_email()
    assert (email.status, email.attempts, email.error_code) == ("failed", 2, "451")
    assert "Still busy" in email.error and smtp.received == []


def test_a_permanent_refusal_fails_at_once_with_the_servers_reply(app, account, smtp):
    smtp.answer("550 5.1.1 No such user here")
    send_to(app, account)
    email = the_email()
    assert (email.status, email.attempts, email.error_code) == ("failed", 1, "550")
    assert "550" in email.error and "No such user here" in email.error and smtp.received == []


def test_a_wrong_password_fails_with_the_servers_reply(app, account, smtp):
    email_settings.save(account.id, host="127.0.0.1", port=smtp.port, security="none", username="mailer",
                        password="wrong", from_address="hello@acme.test", from_name=None, reply_to=None, user_id=None)
    db.session.commit()
    send_to(app, account)
    email = the_email()
    assert email.status == "failed" and email.error_code == "535" and smtp.received == []


def test_email_dnd_turned_on_after_the_email_was_queued_is_honoured_at_send_time(app, account, smtp):
    email, after = queue_without_sending(account)
    assert email.status == "queued"
    db.session.get(Contact, email.contact_id).dnd_email = True
    db.session.commit()
    effects.carry_out(after)
    run_jobs(app)
    email = the_email()
    assert (email.status, email.error_code) == ("failed", "dnd") and "do-not-disturb" in email.error
    assert smtp.received == []


def test_a_send_cut_short_is_marked_unknown_and_never_sent_again(app, account, smtp):
    email, _ = queue_without_sending(account)
    past = utcnow() - timedelta(hours=1)
    db.session.execute(update(Email).where(Email.id == email.id).values(status="sending", status_at=past, attempts=1))
    db.session.commit()
    assert recovery.reconcile()["interrupted_emails"] == 1
    email_outbox.deliver([email.id])
    run_jobs(app)
    email = the_email()
    assert (email.status, email.error_code) == ("unknown", "cut_short") and smtp.received == []


def test_the_reconciler_sends_an_email_whose_job_was_lost(app, account, smtp):
    email, _ = queue_without_sending(account)  # the job that should send it is never enqueued
    db.session.execute(update(Email).where(Email.id == email.id).values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert recovery.reconcile()["unsent_emails"] == 1
    run_jobs(app)
    assert the_email().status == "sent" and len(smtp.received) == 1
    assert recovery.reconcile()["unsent_emails"] == 0  # and not again


def test_without_public_url_an_smtp_send_fails_rather_than_carry_a_broken_unsubscribe_link(app, account, smtp):
    app.config["PUBLIC_URL"] = ""
    send_to(app, account)
    email = the_email()
    assert (email.status, email.error_code) == ("failed", "not_configured") and smtp.received == []
