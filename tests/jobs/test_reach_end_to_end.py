"""One workflow that reaches beyond SMS, end to end through the real engine, database and RQ jobs: it
assigns a user, emails the contact (to a real local SMTP server), posts them to a webhook (a real local
HTTP server), notifies the assignee and gives them a task. What each server received, and what the
account holds afterwards, is read back."""

from __future__ import annotations

import json

from sqlalchemy import select

from builder.extensions import db
from builder.integrations import email_settings
from builder.models import Contact, Email, Enrollment, ExecutionLog, Notification, Task
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.http_receiver import http_receiver
from tests.smtp_server import SmtpServer


def reach_flow(agent_id: int, url: str) -> dict:
    return {"name": "Welcome", "start": "assign", "steps": {
        "assign": {"type": "assign_user", "config": {"user_ids": [agent_id]}, "next": "email"},
        "email": {"type": "send_email", "config": {"subject": "Welcome, {{ contact.first_name }}",
                                                   "text_body": "Hi {{ contact.first_name }}!"}, "next": "hook"},
        "hook": {"type": "webhook", "config": {"url": url, "body": json.dumps(
            {"email": "{{ contact.email }}", "name": "{{ contact.name }}"})}, "next": "notify"},
        "notify": {"type": "internal_notification", "config": {
            "recipients": "assigned_user", "title": "New customer: {{ contact.name }}"}, "next": "task"},
        "task": {"type": "add_task", "config": {"title": "Call {{ contact.first_name }}", "assign_to": "contact_owner",
                                                "due": "after", "due_amount": 2, "due_unit": "hours"}, "next": None},
    }}


def test_assign_email_webhook_notify_and_task_run_end_to_end(app, account, users):
    agent = users["agent"]
    with SmtpServer() as smtp, http_receiver(app) as crm:
        app.config["PUBLIC_URL"] = "https://flowdesk.example"
        email_settings.save(account.id, host="127.0.0.1", port=smtp.port, security="none", username=None,
                            password=None, from_address="hello@acme.test", from_name="Acme", reply_to=None,
                            user_id=None)
        db.session.commit()
        contact = make_contact(account, first_name="Ann", last_name="Lee", email="ann@example.com")
        wf = make_workflow(account, reach_flow(agent.id, crm.base + "/contacts"))
        create_request(wf, wf.published_version, [contact.id], is_test=False)
        run_jobs(app)

    db.session.expire_all()
    run = db.session.scalars(select(Enrollment)).one()
    assert run.status == "completed"
    outcomes = dict(db.session.execute(select(ExecutionLog.step_id, ExecutionLog.outcome)
                                       .order_by(ExecutionLog.id)).all())  # the last word per step
    assert outcomes == {"assign": "ok", "email": "ok", "hook": "ok", "notify": "ok", "task": "ok"}
    assert db.session.get(Contact, contact.id).assigned_user_id == agent.id

    [mail] = smtp.received
    assert mail.rcpt_tos == ["ann@example.com"] and mail.message["Subject"] == "Welcome, Ann"
    assert "Hi Ann!" in mail.message.get_body(("plain",)).get_content()
    assert db.session.scalars(select(Email.status)).one() == "sent"

    [posted] = crm.received
    assert posted.method == "POST" and posted.path == "/contacts"
    assert json.loads(posted.body) == {"email": "ann@example.com", "name": "Ann Lee"}

    [note] = db.session.scalars(select(Notification)).all()
    assert (note.user_id, note.contact_id, note.title) == (agent.id, contact.id, "New customer: Ann Lee")
    [task] = db.session.scalars(select(Task)).all()
    assert (task.assignee_id, task.contact_id, task.title, task.status) == (agent.id, contact.id, "Call Ann", "open")
