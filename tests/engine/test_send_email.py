"""Send Email, driven through the real engine, SqlStore, database and RQ with the console email provider
(no SMTP settings anywhere): what is queued and recorded, why a step is skipped, merge fields (escaped in
HTML), the send window and quiet hours, one email per step run, the config schema, and the catalogue."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from builder.domain import timeline
from builder.domain.errors import Invalid
from builder.domain.workflows import create_workflow
from builder.extensions import db
from builder.models import Contact, Email, ExecutionLog
from builder.schemas.forms import describe_schema
from engine.registry import get
from engine.send_window import DAYS
from jobqueue import effects, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

CONFIG = {"subject": "Hi {{ contact.first_name }}", "text_body": "Hello {{ contact.first_name }}, welcome.",
          "html_body": "<p>Hello <b>{{ contact.first_name }}</b></p>"}


def flow(config=None, **settings):
    return {"name": "Email them", "start": "e", "settings": settings, "steps": {
        "e": {"type": "send_email", "config": {**CONFIG, **(config or {})}, "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "after-email"}}}}


def enroll(app, wf, contacts):
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)


def step_log(step_id: str = "e") -> ExecutionLog:
    return db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == step_id)
                              .order_by(ExecutionLog.id.desc()).limit(1)).one()


def emails() -> list[Email]:
    db.session.expire_all()
    return list(db.session.scalars(select(Email).order_by(Email.id)))


def test_the_console_provider_records_the_email_in_the_conversation_and_the_run_goes_on(app, account):
    wf = make_workflow(account, flow())
    c = make_contact(account, first_name="<Ann>", email="ann@example.com")
    enroll(app, wf, [c])
    [email] = emails()
    assert (email.to_address, email.subject, email.status, email.provider) == (
        "ann@example.com", "Hi <Ann>", "sent", "console")
    assert email.text_body == "Hello <Ann>, welcome."
    assert email.html_body == "<p>Hello <b>&lt;Ann&gt;</b></p>"  # merged values are escaped in HTML
    assert (email.workflow_id, email.attempts, email.sent_at is not None) == (wf.id, 1, True)
    row = step_log()
    assert row.outcome == "ok" and row.output["email_id"] == email.id and row.output["to"] == "ann@example.com"
    assert step_log("t").outcome == "ok"
    items, _ = timeline.timeline(db.session.get(Contact, c.id), limit=30)
    [item] = [i for i in items if i["kind"] == "email"]
    assert (item["subject"], item["status"], item["simulated"], item["to"]) == (
        "Hi <Ann>", "sent", True, "ann@example.com")


@pytest.mark.parametrize(("fields", "reason"), [
    ({"email": None}, "no email address"),
    ({"email": "not-an-address"}, "is not valid"),
    ({"email": "ann@example.com", "dnd_email": True}, "email do-not-disturb"),
])
def test_a_step_that_cannot_send_is_skipped_with_the_reason_and_the_run_goes_on(app, account, fields, reason):
    wf = make_workflow(account, flow())
    enroll(app, wf, [make_contact(account, **fields)])
    row = step_log()
    assert row.outcome == "skipped" and reason in row.output["reason"]
    assert emails() == [] and step_log("t").outcome == "ok"


def test_outside_the_send_window_the_email_waits_and_dnd_set_meanwhile_is_honoured(app, account):
    today = DAYS[datetime.now().weekday()]
    others = [d for d in DAYS if d not in (today, DAYS[(DAYS.index(today) + 1) % 7], DAYS[DAYS.index(today) - 1])]
    wf = make_workflow(account, flow(send_window={"days": others, "start": "09:00", "end": "17:00"}))
    c = make_contact(account, email="ann@example.com", timezone="UTC")
    enroll(app, wf, [c])
    row = step_log()
    assert row.outcome == "waiting" and "outside the send window" in row.output["reason"] and emails() == []
    db.session.get(Contact, c.id).dnd_email = True  # unsubscribed while the email was held
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    row = step_log()
    assert row.outcome == "skipped" and "do-not-disturb" in row.output["reason"] and emails() == []


def test_quiet_hours_hold_an_email_as_they_hold_a_text(app, account):
    now = datetime.now()
    account.quiet_hours_enabled = True
    account.quiet_hours_start = f"{(now.hour + 2) % 24:02d}:00"  # a one-hour window that is never now, in UTC
    account.quiet_hours_end = f"{(now.hour + 3) % 24:02d}:00"
    db.session.commit()
    wf = make_workflow(account, flow())
    enroll(app, wf, [make_contact(account, email="ann@example.com", timezone="UTC")])
    row = step_log()
    assert row.outcome == "waiting" and "quiet hours" in row.output["reason"] and emails() == []


def test_advancing_the_same_run_twice_queues_and_sends_one_email(app, account):
    wf = make_workflow(account, flow())
    c = make_contact(account, email="ann@example.com")
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)
    after = runner.advance(ids)
    runner.advance(ids)
    effects.carry_out(after)
    effects.carry_out(after)  # the sending job asked for twice
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Email)) == 1
    [email] = emails()
    assert (email.status, email.attempts) == ("sent", 1)


@pytest.mark.parametrize(("config", "path"), [
    ({"subject": ""}, "steps.e.config.subject"),
    ({"subject": "{{ contact.nope( }}"}, "steps.e.config.subject"),
    ({"text_body": ""}, "steps.e.config.text_body"),
    ({"html_body": "{% for x in y %}{% endfor %}"}, "steps.e.config.html_body"),
])
def test_bad_config_is_refused_at_the_field(app, account, config, path):
    with pytest.raises(Invalid) as caught:
        create_workflow(account.id, flow(config), publish=True)
    assert path in caught.value.fields
    db.session.rollback()


def test_the_catalogue_entry_and_its_form():
    action = get("send_email")
    assert (action.label, action.category) == ("Send Email", "Communication")
    form = {f["name"]: f for f in describe_schema(action.schema)}
    # Then the retry policy and On failure exit every step that reaches outside has (engine.actions.failures).
    assert list(form) == ["subject", "text_body", "html_body", "retry_attempts", "retry_backoff_seconds",
                          "failure_next"]
    assert form["subject"]["required"] and form["text_body"]["required"] and not form["html_body"]["required"]
    assert {form[f]["kind"] for f in ("subject", "text_body", "html_body")} == {"template"}
