"""`make run`'s demo shows the reach actions end to end with the console providers: "Welcome new
customers" assigns each contact, emails them (recorded, nothing sent), posts them to a webhook (the
demo's own "CRM intake" workflow, through the address guard's one allowance for this server), notifies
the assignee and gives them a task; "Spring offer (split test)" texts everyone one of its two texts and
waits for their replies."""

import os
import signal
import subprocess
import sys
import uuid

from sqlalchemy import func, select

from app import create_app
from builder.extensions import db
from builder.models import (
    Contact,
    ContactTag,
    Email,
    Enrollment,
    ExecutionLog,
    Message,
    Notification,
    Task,
    Workflow,
)
from tests.factories import app_config
from tests.workers import ROOT, accepts, free_port, wait_for

WELCOMED = ["Linus", "Katherine", "Edsger", "Barbara", "Margaret"]  # the demo's contacts 4 to 8
WITHOUT_EMAIL = {"Edsger"}


def count(statement) -> int | None:
    """One value, reading what the server's processes committed and holding no lock after (SQLite)."""
    db.session.rollback()
    value = db.session.scalar(statement)
    db.session.rollback()
    return value


def test_the_demo_welcome_workflow_runs_end_to_end(tmp_path, redis_url):
    port = free_port()
    database = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url,
           "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}", "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_CONCURRENCY": "1"}
    for name in ("ALLOWED_WEBHOOK_HOSTS", "SMTP_HOST", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)  # the embedded defaults: console providers, the guard's own allowance
    log_path = tmp_path / "devserver.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "builder.server.devserver"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    app = create_app(app_config(database, redis_url))
    try:
        assert wait_for(lambda: accepts(port) or proc.poll() is not None, timeout=120) and proc.poll() is None, (
            log_path.read_text())
        with app.app_context():
            welcome = count(select(Workflow.id).where(Workflow.name == "Welcome new customers"))

            assert welcome is not None

            def completed_runs() -> int:
                return count(select(func.count()).select_from(Enrollment).where(
                    Enrollment.workflow_id == welcome, Enrollment.status == "completed"))

            assert wait_for(lambda: completed_runs() == len(WELCOMED), timeout=120, interval=0.5), (
                log_path.read_text())
            runs = db.session.execute(select(Contact.first_name, Enrollment.status, Contact.assigned_user_id)
                                      .join(Contact, Contact.id == Enrollment.contact_id)
                                      .where(Enrollment.workflow_id == welcome)).all()
            assert sorted(name for name, *_ in runs) == sorted(WELCOMED)
            assert all(status == "completed" and owner for _, status, owner in runs), runs

            emails = db.session.execute(select(Contact.first_name, Email.subject, Email.status)
                                        .join(Contact, Contact.id == Email.contact_id)).all()
            assert sorted(name for name, *_ in emails) == sorted(set(WELCOMED) - WITHOUT_EMAIL)
            assert all(subject == f"Welcome to Demo Co, {name}" for name, subject, _ in emails)
            skipped = db.session.scalar(select(ExecutionLog.output).where(
                ExecutionLog.workflow_id == welcome, ExecutionLog.step_id == "email",
                ExecutionLog.outcome == "skipped"))
            assert skipped and skipped["reason"] == "contact has no email address"

            # The webhook reached this server's intake workflow, which tagged each contact.
            assert wait_for(lambda: count(select(func.count()).select_from(ContactTag).where(
                ContactTag.tag == "in-crm")) == len(WELCOMED), timeout=60, interval=0.5), log_path.read_text()
            posted = db.session.scalars(select(ExecutionLog.output).where(
                ExecutionLog.workflow_id == welcome, ExecutionLog.step_id == "crm", ExecutionLog.outcome == "ok"))
            assert [out["status"] for out in posted] == [202] * len(WELCOMED)

            tasks = db.session.execute(select(Task.title, Task.assignee_id, Contact.assigned_user_id)
                                       .join(Contact, Contact.id == Task.contact_id)
                                       .where(Task.workflow_id == welcome)).all()
            assert len(tasks) == len(WELCOMED)
            assert all(title.startswith("Welcome call: ") and who == owner for title, who, owner in tasks)
            notified = db.session.execute(select(Notification.user_id, Contact.assigned_user_id)
                                          .join(Contact, Contact.id == Notification.contact_id)
                                          .where(Notification.workflow_id == welcome)).all()
            assert len(notified) == len(WELCOMED) and all(user == owner for user, owner in notified)

            # The split test has texted all eight, each one of its two texts, and they wait for a reply.
            offer = count(select(Workflow.id).where(Workflow.name == "Spring offer (split test)"))
            assert wait_for(lambda: count(select(func.count()).select_from(Enrollment).where(
                Enrollment.workflow_id == offer, Enrollment.current_step == "wait",
                Enrollment.status == "waiting")) == 8, timeout=60, interval=0.5), log_path.read_text()
            texts = list(db.session.scalars(select(Message.body).where(Message.direction == "outbound",
                                                                       Message.body.contains("Demo Co"))))
            assert len(texts) == 8 and all(text.endswith(("Interested?", "Want it?")) for text in texts), texts
            db.session.remove()
            db.engine.dispose()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
