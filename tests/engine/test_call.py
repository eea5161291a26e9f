"""Call, driven through the real engine, SqlStore, database and RQ with the console provider (which simulates an
outcome): the exits taken, who is rung, why a call is not made, the send window and quiet hours, DND checked
again when a held call goes out, one call per step run, and what the conversation shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from builder.domain import timeline
from builder.domain.errors import Invalid
from builder.domain.workflows import create_workflow
from builder.extensions import db
from builder.models import Call, CallStep, Contact, Enrollment, ExecutionLog
from engine.send_window import DAYS
from jobqueue import effects, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

USER_PHONE = "+12025550199"


def flow(config=None, **settings):
    return {"name": "Call them", "start": "c", "settings": settings, "steps": {
        "c": {"type": "call", "config": {"answered_next": "yes", "not_answered_next": "no", **(config or {})}},
        "yes": {"type": "add_tag", "config": {"tag": "answered"}},
        "no": {"type": "add_tag", "config": {"tag": "not-answered"}}}}


def enroll(app, wf, contacts):
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)


def step_log(step_id: str = "c") -> ExecutionLog:
    return db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == step_id)
                              .order_by(ExecutionLog.id.desc()).limit(1)).one()


def tags(contact_id: int) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.get(Contact, contact_id).tags)


def calls() -> int:
    return db.session.scalar(select(func.count()).select_from(Call))


@pytest.fixture
def agent(users):
    users["agent"].phone = USER_PHONE
    db.session.commit()
    return users["agent"]


def test_an_answered_call_takes_the_answered_exit_and_shows_in_the_conversation(app, account, agent):
    wf = make_workflow(account, flow())
    c = make_contact(account, first_name="Ada", last_name="Lovelace", assigned_user_id=agent.id)
    enroll(app, wf, [c])
    assert tags(c.id) == ["answered"]
    call, step = db.session.execute(select(Call, CallStep).join(CallStep, CallStep.call_id == Call.id)).one()
    assert (call.to_number, call.provider, call.status, call.user_id) == ("+14155551000", "console", "completed", None)
    assert (step.outcome, step.bridge_number, step.whisper_name, step.workflow_id) == (
        "answered", USER_PHONE, "Ada Lovelace", wf.id)
    row = step_log()
    assert row.outcome == "ok" and row.output["outcome"] == "answered" and row.output["call_id"] == call.id
    assert row.output["resumed_by"] == f"call:{call.id}" and row.output["next"] == "yes"
    items, _ = timeline.timeline(db.session.get(Contact, c.id), limit=30)
    [item] = [i for i in items if i["kind"] == "call"]
    assert (item["outcome"], item["workflow_id"]) == ("answered", wf.id)
    assert db.session.scalars(select(Enrollment)).one().status == "completed"


@pytest.mark.parametrize("outcome", ["busy", "no_answer", "voicemail", "failed"])
def test_every_other_outcome_takes_the_not_answered_exit(app, account, agent, outcome):
    app.config["CONSOLE_CALL_OUTCOME"] = outcome
    wf = make_workflow(account, flow())
    c = make_contact(account, assigned_user_id=agent.id)
    enroll(app, wf, [c])
    assert tags(c.id) == ["not-answered"]
    assert step_log().output["outcome"] == outcome
    assert db.session.scalars(select(CallStep.outcome)).one() == outcome


def test_a_chosen_number_is_rung_and_the_whisper_can_be_off(app, account):
    wf = make_workflow(account, flow({"connect_to": "number", "number": "+1 202 555 0142", "whisper": False}))
    c = make_contact(account)
    enroll(app, wf, [c])
    step = db.session.scalars(select(CallStep)).one()
    assert (step.bridge_number, step.whisper_name) == ("+12025550142", None)
    assert tags(c.id) == ["answered"]


@pytest.mark.parametrize(("setup", "reason"), [
    ({"phone": None}, "contact has no valid phone number"),
    ({"dnd_call": True}, "contact has call do-not-disturb on"),
    ({"assigned_user_id": None}, "contact has no active assigned user"),
    ({"assignee_without_phone": True}, "the assigned user has no phone number"),
])
def test_a_call_that_cannot_be_made_is_skipped_down_not_answered(app, account, agent, users, setup, reason):
    fields = {"assigned_user_id": agent.id, **setup}
    if fields.pop("assignee_without_phone", False):
        fields["assigned_user_id"] = users["agent2"].id
    wf = make_workflow(account, flow())
    c = make_contact(account, **fields)
    enroll(app, wf, [c])
    row = step_log()
    assert row.outcome == "skipped" and reason in row.output["reason"]
    assert tags(c.id) == ["not-answered"] and calls() == 0


@pytest.mark.parametrize(("config", "path"), [
    ({"connect_to": "number"}, "steps.c.config.number"),
    ({"connect_to": "number", "number": "call me maybe"}, "steps.c.config.number"),
    ({"connect_to": "someone"}, "steps.c.config.connect_to"),
    ({"timeout_minutes": 0}, "steps.c.config.timeout_minutes"),
    ({"answered_next": "nowhere"}, "steps.c.config.answered_next"),
])
def test_bad_config_is_refused_at_the_field(app, account, config, path):
    with pytest.raises(Invalid) as caught:
        create_workflow(account.id, flow(config), publish=True)
    assert path in caught.value.fields
    db.session.rollback()


def test_outside_the_send_window_the_call_waits_and_dnd_set_meanwhile_is_honoured(app, account, agent):
    today = DAYS[datetime.now(UTC).weekday()]
    others = [d for d in DAYS if d not in (today, DAYS[(DAYS.index(today) + 1) % 7], DAYS[DAYS.index(today) - 1])]
    wf = make_workflow(account, flow(send_window={"days": others, "start": "09:00", "end": "17:00"}))
    c = make_contact(account, assigned_user_id=agent.id, timezone="UTC")
    enroll(app, wf, [c])
    row = step_log()
    assert row.outcome == "waiting" and "outside the send window" in row.output["reason"] and calls() == 0
    db.session.get(Contact, c.id).dnd_call = True  # the contact asks not to be called while the call is held
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    row = step_log()
    assert row.outcome == "skipped" and "do-not-disturb" in row.output["reason"]
    assert tags(c.id) == ["not-answered"] and calls() == 0


def test_quiet_hours_hold_a_call_as_they_hold_a_text(app, account, agent):
    now = datetime.now(UTC)
    account.quiet_hours_enabled = True
    # A one-hour window that is never now, in UTC.
    account.quiet_hours_start = f"{(now.hour + 2) % 24:02d}:00"
    account.quiet_hours_end = f"{(now.hour + 3) % 24:02d}:00"
    db.session.commit()
    wf = make_workflow(account, flow())
    enroll(app, wf, [make_contact(account, assigned_user_id=agent.id, timezone="UTC")])
    row = step_log()
    assert row.outcome == "waiting" and "quiet hours" in row.output["reason"] and calls() == 0


def test_advancing_the_same_run_twice_places_one_call(app, account, agent):
    wf = make_workflow(account, flow())
    c = make_contact(account, assigned_user_id=agent.id)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)
    after = runner.advance(ids)
    runner.advance(ids)
    assert calls() == 1
    effects.carry_out(after)
    effects.carry_out(after)  # the placing job asked for twice
    run_jobs(app)
    assert calls() == 1 and tags(c.id) == ["answered"]
