"""The Call step through Twilio, against the local fake Twilio: the call placed with machine detection and a
signed status callback, the TwiML that whispers and bridges, each outcome and the exit it takes, signatures,
DND at placement time, a lost callback (the step's timeout asks Twilio), retries, and never placing twice
(a job run twice, a placement cut short)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from builder.extensions import db
from builder.models import Call, CallStep, Contact, Enrollment, ExecutionLog, utcnow
from jobqueue import calls, effects, recovery, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.fake_twilio import FROM_NUMBER, PUBLIC_URL, connect_account
from tests.workers import kill_hard, start_worker, stop

USER_PHONE = "+12025550199"
FLOW = {"name": "Call them", "start": "c", "steps": {
    "c": {"type": "call", "config": {"answered_next": "yes", "not_answered_next": "no", "timeout_minutes": 10}},
    "yes": {"type": "add_tag", "config": {"tag": "answered"}},
    "no": {"type": "add_tag", "config": {"tag": "not-answered"}}}}


@pytest.fixture
def twilio(app, client, account, users, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    users["agent"].phone = USER_PHONE
    db.session.commit()
    return fake_twilio


def start_call(app, account, users, **contact_fields):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, first_name="Ada <&>", last_name="O'Hara", assigned_user_id=users["agent"].id,
                           **contact_fields)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return contact.id


def state(contact_id: int) -> tuple[str, str | None, list[str]]:
    db.session.expire_all()
    run = db.session.scalars(select(Enrollment).where(Enrollment.contact_id == contact_id)).one()
    return run.status, run.current_step, sorted(db.session.get(Contact, contact_id).tags)


def the_call() -> tuple[Call, CallStep]:
    db.session.expire_all()
    return db.session.execute(select(Call, CallStep).join(CallStep, CallStep.call_id == Call.id)).one()


def step_log() -> ExecutionLog:
    return db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "c")
                              .order_by(ExecutionLog.id.desc()).limit(1)).one()


def test_the_call_is_placed_with_machine_detection_and_a_signed_status_callback(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    call, step = the_call()
    assert (placed.value("To"), placed.value("From"), placed.value("MachineDetection")) == (
        "+14155551000", FROM_NUMBER, "Enable")
    assert placed.value("Url") == f"{PUBLIC_URL}/webhooks/twilio/voice/connect/{call.id}"
    assert placed.value("StatusCallback") == f"{PUBLIC_URL}/webhooks/twilio/call-status?call={call.id}"
    assert (call.provider, call.provider_sid, call.status, step.outcome) == ("twilio", placed.sid, "queued", None)
    assert state(contact_id) == ("waiting", "c", [])


def test_answered_by_a_person_whispers_the_name_bridges_and_takes_answered(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    reply = twilio.answer(placed.sid, answered_by="human")
    assert reply.status == 200
    dial = ET.fromstring(reply.text).find("Dial")
    number = dial.find("Number")
    assert dial.get("callerId") == FROM_NUMBER and number.text == USER_PHONE
    whisper = twilio.fetch_url(number.get("url"), placed.sid)
    say = ET.fromstring(whisper.text).find("Say").text
    assert say == "Call from Ada <&> O'Hara. Connecting you now." and "&amp;" in whisper.text  # escaped XML

    assert twilio.call_status(placed.sid, "in-progress").status == 204
    assert state(contact_id) == ("waiting", "c", [])
    assert twilio.call_status(placed.sid, "completed", duration=42, answered_by="human").status == 204
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["answered"])
    call, step = the_call()
    assert (step.outcome, step.answered_by, call.status, call.duration_seconds) == (
        "answered", "human", "completed", 42)
    assert step_log().output["outcome"] == "answered"
    # A late or repeated callback changes nothing and resumes nothing.
    assert twilio.call_status(placed.sid, "completed", duration=42).status == 204
    assert run_jobs(app) == 0


@pytest.mark.parametrize(("final", "answered_by", "outcome"), [
    ("busy", None, "busy"),
    ("no-answer", None, "no_answer"),
    ("failed", None, "failed"),
    ("completed", "machine_end_beep", "voicemail"),
])
def test_each_other_outcome_takes_not_answered(app, account, users, twilio, final, answered_by, outcome):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    if answered_by:  # a machine: nobody is rung
        reply = twilio.answer(placed.sid, answered_by=answered_by)
        assert ET.fromstring(reply.text).find("Hangup") is not None
        assert ET.fromstring(reply.text).find("Dial") is None
    assert twilio.call_status(placed.sid, final, answered_by=answered_by).status == 204
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["not-answered"])
    assert the_call()[1].outcome == outcome and step_log().output["outcome"] == outcome


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_callbacks_are_refused_and_change_nothing(app, account, users, twilio, signature):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    assert twilio.call_status(placed.sid, "completed", signature=signature).status == 403
    assert twilio.answer(placed.sid, signature=signature).status == 403
    run_jobs(app)
    assert the_call()[1].outcome is None and state(contact_id) == ("waiting", "c", [])


def test_dnd_set_before_the_call_is_placed_means_it_is_never_placed(app, account, users, twilio):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    after = runner.advance(create_batch_enrollments(bulk.id, 0))  # the step ran: the call is queued
    db.session.get(Contact, contact.id).dnd_call = True
    db.session.commit()
    effects.carry_out(after)
    run_jobs(app)
    assert twilio.api_requests("Calls") == []
    call, step = the_call()
    assert (step.outcome, call.status) == ("failed", "canceled") and "do-not-disturb" in call.error
    assert state(contact.id) == ("completed", None, ["not-answered"])


def test_a_job_run_twice_places_one_call(app, account, users, twilio):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    after = runner.advance(create_batch_enrollments(bulk.id, 0))
    effects.carry_out(after)
    effects.carry_out(after)
    run_jobs(app)
    calls.place(after.calls)  # and once more, by hand
    assert len(twilio.api_requests("Calls")) == 1


def test_a_placement_cut_short_is_recorded_as_failed_and_never_placed_again(app, account, users, twilio):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    after = runner.advance(create_batch_enrollments(bulk.id, 0))
    [call_id] = after.calls
    assert calls._claim(call_id) is not None  # the worker claimed it, then died before Twilio was asked
    db.session.execute(update(CallStep).values(claimed_at=utcnow() - timedelta(hours=1),
                                               created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    counts = recovery.reconcile()
    run_jobs(app)
    assert counts["calls_interrupted"] == 1 and counts["calls"] == 0
    assert twilio.api_requests("Calls") == []
    call, step = the_call()
    assert (step.outcome, call.status) == ("failed", "unknown")
    assert state(contact.id) == ("completed", None, ["not-answered"])


def test_a_lost_placing_job_is_placed_by_the_reconciler(app, account, users, twilio):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    runner.advance(create_batch_enrollments(bulk.id, 0))  # its enqueue never happened
    db.session.execute(update(CallStep).values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert recovery.reconcile()["calls"] == 1
    run_jobs(app)
    assert len(twilio.api_requests("Calls")) == 1


def test_twilio_busy_for_now_is_retried_and_a_refusal_fails_the_call(app, account, users, twilio):
    twilio.fail_next(1, 503)
    start_call(app, account, users)
    run_jobs(app)
    assert [r.status for r in twilio.api_requests("Calls")] == [503, 201]
    assert the_call()[1].attempts == 2

    twilio.fail_next(1, 400, 21215, "Geo permission")
    contact_id = start_call(app, account, users, phone="+14155551001")
    run_jobs(app)
    row = db.session.scalars(select(CallStep).order_by(CallStep.call_id.desc()).limit(1)).one()
    assert row.outcome == "failed" and "21215" in db.session.get(Call, row.call_id).error
    assert sorted(db.session.get(Contact, contact_id).tags) == ["not-answered"]


def test_a_lost_callback_times_out_and_the_outcome_is_fetched_from_twilio(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    twilio.set_call_state(placed.sid, "completed", answered_by="human", duration=30)
    run_scheduled_jobs(app)  # the step's timeout: no callback ever came
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["answered"])
    call, step = the_call()
    assert (step.outcome, call.duration_seconds) == ("answered", 30)
    assert any(r.method == "GET" and placed.sid in r.path for r in twilio.requests)


def test_a_call_twilio_still_reports_as_ringing_at_the_timeout_is_recorded_as_failed(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    twilio.set_call_state(placed.sid, "ringing")
    run_scheduled_jobs(app)
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["not-answered"])
    call, step = the_call()
    assert step.outcome == "failed" and "ringing" in call.error


def test_a_lost_check_job_is_asked_again_by_the_reconciler(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    [placed] = twilio.created("Calls")
    twilio.set_call_state(placed.sid, "no-answer")
    run = db.session.scalars(select(Enrollment)).one()
    # The step's timer fires, but the check job it asks for is lost.
    result = runner.resume(run.id, run.seq, "timer")
    assert result.call_checks and state(contact_id)[0] == "parked"
    db.session.execute(update(CallStep).values(check_requested_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert recovery.reconcile()["call_checks"] == 1
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["not-answered"])
    assert the_call()[1].outcome == "no_answer"


def test_an_ended_call_whose_resume_was_lost_resumes_its_run_from_the_reconciler(app, account, users, twilio):
    contact_id = start_call(app, account, users)
    db.session.execute(update(CallStep).values(outcome="busy"))  # recorded, then the resume was lost
    db.session.commit()
    assert recovery.reconcile()["call_resumes"] == 1
    run_jobs(app)
    assert state(contact_id) == ("completed", None, ["not-answered"])
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_call_never_placed_before_the_timeout_is_not_placed_after_it(app, account, users, twilio):
    wf = make_workflow(account, FLOW)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [contact.id], is_test=False)
    [call_id] = runner.advance(create_batch_enrollments(bulk.id, 0)).calls  # its placing job is lost
    run = db.session.scalars(select(Enrollment)).one()
    effects.carry_out(runner.resume(run.id, run.seq, "timer"))
    run_jobs(app)
    assert state(contact.id) == ("completed", None, ["not-answered"])
    call, step = the_call()
    assert (step.outcome, call.status) == ("failed", "canceled")
    calls.place([call_id])
    assert twilio.api_requests("Calls") == []


def test_a_placement_whose_reply_never_comes_is_failed_and_not_placed_again(app, account, users, twilio):
    app.config["TWILIO_TIMEOUT_SECONDS"] = 0.5
    release = twilio.hold_next()  # Twilio takes the call; its reply never reaches us
    try:
        contact_id = start_call(app, account, users)
    finally:
        release.set()
    call, step = the_call()
    assert (step.outcome, call.status) == ("failed", "unknown") and "not placed again" in call.error
    calls.place([call.id])
    assert len(twilio.api_requests("Calls")) == 1
    assert state(contact_id) == ("completed", None, ["not-answered"])


@pytest.mark.slow
def test_a_worker_killed_while_placing_the_call_never_places_it_twice(app, account, users, twilio):
    release = twilio.hold_next()  # Twilio takes the call; the worker dies before its reply arrives
    wf = make_workflow(account, FLOW)
    contact_id = make_contact(account, assigned_user_id=users["agent"].id).id
    create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.rollback()
    worker = start_worker(app, TWILIO_API_URL=twilio.url, PUBLIC_URL=PUBLIC_URL, SECRET_KEY="test-secret",
                          TWILIO_RETRY_DELAYS="0,0")
    try:
        assert twilio.held.wait(timeout=60), stop(worker)
        kill_hard(worker)
    finally:
        release.set()
        stop(worker)
    call_id = db.session.scalar(select(Call.id))
    db.session.rollback()
    # What follows a crash: RQ may run the job again, the reconciler sweeps.
    calls.place([call_id])
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    db.session.execute(update(CallStep).values(claimed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert recovery.reconcile()["calls_interrupted"] == 1
    run_jobs(app)
    assert len(twilio.api_requests("Calls")) == 1
    assert the_call()[1].outcome == "failed"
    assert state(contact_id) == ("completed", None, ["not-answered"])
