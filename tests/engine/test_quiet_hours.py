"""Quiet hours: automated SMS go out only inside both the account's hours and the workflow's send window,
in the contact's time zone; manual texts and calls outside them ask the agent to confirm."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from builder.extensions import db
from builder.models import Account, Call, ManualAction, Message, utcnow
from engine.quiet_hours import NoOverlap, allowed_now, next_send_time
from jobqueue.queues import get_queue
from tests.api.test_lets_start import queue_actions
from tests.engine.test_actions import enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.jobs.test_wait_for_reply import timers

DAY = {"start": "08:00", "end": "21:00"}
OVERNIGHT = {"start": "22:00", "end": "06:00"}
WEEKDAYS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
T = datetime.fromisoformat  # 2026-11-23 is a Monday


# --- the engine: the next moment inside both ------------------------------------------------

@pytest.mark.parametrize(("window", "quiet", "zone", "now", "expected"), [
    (None, DAY, "UTC", "2026-11-24T12:00", None),
    (None, DAY, "UTC", "2026-11-24T07:59", "2026-11-24T08:00"),
    (None, DAY, "UTC", "2026-11-24T21:00", "2026-11-25T08:00"),  # the end is exclusive
    (None, DAY, "UTC", "2026-11-24T22:14", "2026-11-25T08:00"),
    (None, DAY, "America/New_York", "2026-11-24T03:14", "2026-11-24T13:00"),  # 22:14 the evening before there
    (None, DAY, "America/New_York", "2026-11-24T13:00", None),
    (None, OVERNIGHT, "UTC", "2026-11-24T23:00", None),  # an end before the start runs overnight
    (None, OVERNIGHT, "UTC", "2026-11-24T05:59", None),
    (None, OVERNIGHT, "UTC", "2026-11-24T06:00", "2026-11-24T22:00"),
    (None, OVERNIGHT, "UTC", "2026-11-24T12:00", "2026-11-24T22:00"),
    (None, None, "UTC", "2026-11-24T03:00", None),  # switched off
    # The stricter wins: inside the window but before quiet hours open, and the other way round.
    (WEEKDAYS, {"start": "12:00", "end": "21:00"}, "UTC", "2026-11-24T10:00", "2026-11-24T12:00"),
    (WEEKDAYS, DAY, "UTC", "2026-11-24T08:30", "2026-11-24T09:00"),
    ({"days": ["mon", "tue"], "start": "18:00", "end": "23:00"}, DAY, "UTC", "2026-11-23T22:00",
     "2026-11-24T18:00"),
    # Friday evening in New York: Monday 09:00 there.
    (WEEKDAYS, DAY, "America/New_York", "2026-11-28T03:00", "2026-11-30T14:00"),
    # Monday's window has no overlap with the hours: Wednesday's has.
    ({"days": ["mon", "wed"], "start": "06:00", "end": "09:00"}, {"start": "08:30", "end": "21:00"}, "UTC",
     "2026-11-23T05:00", "2026-11-23T08:30"),
    ({"days": ["mon", "wed"], "start": "06:00", "end": "08:00"}, {"start": "07:30", "end": "21:00"}, "UTC",
     "2026-11-23T08:00", "2026-11-25T07:30"),
    # A window inside overnight hours.
    ({"days": ["tue"], "start": "04:00", "end": "07:00"}, OVERNIGHT, "UTC", "2026-11-23T12:00",
     "2026-11-24T04:00"),
    # DST in New York: spring forward on 2026-03-08 (02:00 EST -> 03:00 EDT), fall back on 2026-11-01.
    (None, DAY, "America/New_York", "2026-03-08T06:00", "2026-03-08T12:00"),  # 08:00 EDT
    (None, DAY, "America/New_York", "2026-11-01T04:00", "2026-11-01T13:00"),  # 08:00 EST
    (None, {"start": "02:30", "end": "21:00"}, "America/New_York", "2026-03-08T05:00",
     "2026-03-08T07:00"),  # 02:30 never happens that night: open when the clock jumps to 03:00
    (None, {"start": "01:30", "end": "21:00"}, "America/New_York", "2026-11-01T04:00",
     "2026-11-01T05:30"),  # 01:30 happens twice: the first one
])
def test_next_send_time(window, quiet, zone, now, expected):
    assert next_send_time(window, quiet, zone, T(now)) == (T(expected) if expected else None)


def test_a_window_and_hours_that_never_overlap_say_so():
    with pytest.raises(NoOverlap):
        next_send_time({"days": ["mon"], "start": "06:00", "end": "07:00"}, DAY, "UTC", T("2026-11-23T12:00"))


def first_allowed_minute(window, quiet, zone, now):
    """The answer the slow way: every minute for eight days."""
    for minute in range(8 * 24 * 60):
        moment = now + timedelta(minutes=minute)
        if allowed_now(window, quiet, zone, moment):
            return None if minute == 0 else moment
    raise NoOverlap


@pytest.mark.parametrize(("window", "quiet", "zone"), list(itertools.product(
    [None, WEEKDAYS, {"days": ["sat"], "start": "07:00", "end": "22:30"}],
    [DAY, OVERNIGHT, {"start": "02:15", "end": "01:45"}],
    ["UTC", "America/New_York", "Australia/Lord_Howe"],  # Lord Howe moves its clocks by half an hour
)))
def test_next_send_time_agrees_with_a_minute_by_minute_search(window, quiet, zone):
    def answer(find, now):
        try:
            return find(window, quiet, zone, now)
        except NoOverlap:
            return "never"

    for now in (T("2026-03-07T23:00"), T("2026-04-04T13:07"), T("2026-10-03T13:00"), T("2026-10-31T22:00"),
                T("2026-11-27T20:59")):
        assert answer(next_send_time, now) == answer(first_allowed_minute, now)


# --- a Send SMS step outside quiet hours is held, and sent when they open ------------------------

def hours_around_now(open_in: timedelta, length: timedelta = timedelta(hours=2)) -> tuple[str, str]:
    """Quiet hours (UTC) that open `open_in` from now: now is outside them."""
    start = utcnow() + open_in
    return start.strftime("%H:%M"), (start + length).strftime("%H:%M")


def set_quiet_hours(account: Account, start: str, end: str, enabled: bool = True) -> None:
    account = db.session.get(Account, account.id)
    account.quiet_hours_enabled, account.quiet_hours_start, account.quiet_hours_end = enabled, start, end
    db.session.commit()


def test_a_send_outside_quiet_hours_waits_then_goes_out(app, account):
    start, end = hours_around_now(timedelta(hours=2))
    set_quiet_hours(account, start, end)
    steps = {"s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "t"},
             "t": {"type": "add_tag", "config": {"tag": "texted"}}}
    wf = make_workflow(account, flow(steps))
    contact = make_contact(account, timezone="UTC")
    enroll(app, wf, [contact])
    run = runs()[0]
    assert (run.status, run.current_step) == ("waiting", "s")
    assert run.wake_at > utcnow() and run.wake_at.strftime("%H:%M") == start
    assert db.session.scalars(select(Message)).all() == []
    assert logs()[0].output["reason"].startswith("quiet hours")

    # When the timer fires the hours are checked again: by then (here: the hours changed) they are open.
    start, end = hours_around_now(-timedelta(hours=1))
    set_quiet_hours(account, start, end)
    assert len(timers(app)) == 1
    run_scheduled_jobs(app)
    run_jobs(app)
    assert fresh(run).status == "completed" and fresh(contact).tags == ["texted"]
    (message,) = db.session.scalars(select(Message)).all()
    assert message.body == "Hi Ada"


def test_the_hours_are_read_in_the_contacts_time_zone(app, account):
    start, end = hours_around_now(timedelta(hours=2), timedelta(hours=6))
    set_quiet_hours(account, start, end)
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}))
    # Moscow is three hours ahead of UTC, so their clock reads inside the hours; London's (UTC now) does not.
    moscow = make_contact(account, timezone="Europe/Moscow", phone="+14155551001")
    london = make_contact(account, timezone="Europe/London", phone="+14155551002")
    enroll(app, wf, [moscow, london])
    status = {run.contact_id: run.status for run in runs()}
    assert status == {moscow.id: "completed", london.id: "waiting"}
    assert [m.contact_id for m in db.session.scalars(select(Message))] == [moscow.id]


def test_switched_off_quiet_hours_hold_nothing(app, account):
    start, end = hours_around_now(timedelta(hours=2))
    set_quiet_hours(account, start, end, enabled=False)
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}))
    enroll(app, wf, [make_contact(account)])
    assert runs()[0].status == "completed" and len(db.session.scalars(select(Message)).all()) == 1


def test_the_stricter_of_window_and_hours_wins(app, account):
    # The window is open all day every day; the hours open in two hours: the send waits for the hours.
    start, end = hours_around_now(timedelta(hours=2))
    set_quiet_hours(account, start, end)
    window = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59"}
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}, send_window=window))
    enroll(app, wf, [make_contact(account, timezone="UTC")])
    run = runs()[0]
    # (at 23:59 the window itself is shut, which the engine tests cover)
    assert run.status == "waiting" and run.wake_at.strftime("%H:%M") in (start, "00:00")


def test_a_window_that_never_meets_the_hours_skips_the_send(app, account):
    set_quiet_hours(account, "08:00", "21:00")
    window = {"days": ["mon"], "start": "06:00", "end": "07:00"}
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}, send_window=window))
    enroll(app, wf, [make_contact(account)])
    assert runs()[0].status == "completed"
    assert logs()[0].outcome == "skipped" and "never overlap" in logs()[0].output["reason"]


def test_new_accounts_have_quiet_hours_on_8_to_21(app):
    account = Account(name="New")
    db.session.add(account)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Account, account.id).quiet_hours == {"start": "08:00", "end": "21:00"}


# --- manual texts and calls ask the agent to confirm ------------------------------------------------

def outside_now(account: Account) -> None:
    set_quiet_hours(account, *hours_around_now(timedelta(hours=2)))


def test_a_manual_sms_sent_in_quiet_hours_needs_a_confirmation(app, account, users, as_user):
    outside_now(account)
    queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    agent = as_user("agent")
    resp = agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hello"})
    assert resp.status_code == 409
    error = resp.json["error"]
    assert error["code"] == "quiet_hours"
    hours = db.session.get(Account, account.id).quiet_hours
    assert re.fullmatch(rf"It is \d\d:\d\d for C0; quiet hours allow texts and calls only {hours['start']}-"
                        rf"{hours['end']} in their time zone \(UTC\)\. Confirm to text them anyway\.", error["message"])
    assert error["quiet_hours"] == hours and error["time_zone"] == "UTC"
    assert db.session.scalars(select(Message)).all() == []
    assert fresh(action).status == "queued"

    resp = agent.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hello",
                                                                         "confirm_quiet_hours": True})
    assert resp.status_code == 200 and resp.json["status"] == "completed"
    (message,) = db.session.scalars(select(Message)).all()
    assert message.body == "Hello" and message.status == "sent"


def test_scheduling_inside_the_hours_needs_no_confirmation_and_leaves_at_its_time(app, account, users, as_user):
    start, end = hours_around_now(timedelta(hours=2))
    set_quiet_hours(account, start, end)
    queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    when = (datetime.now(UTC) + timedelta(hours=2, minutes=30)).replace(second=0, microsecond=0)
    resp = as_user("agent").post(f"/api/manual-actions/{action.id}/complete",
                                 json={"message": "Later", "send_at": when.isoformat()})
    assert resp.status_code == 200
    # At its time it leaves even if the hours have changed since: the agent already decided.
    outside_now(account)
    registry = ScheduledJobRegistry(queue=get_queue())
    assert len(registry.get_job_ids()) == 1
    message = db.session.scalar(select(Message))
    message.send_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    assert fresh(message).status == "sent"


def test_scheduling_into_quiet_hours_needs_a_confirmation(app, account, users, as_user):
    set_quiet_hours(account, *hours_around_now(-timedelta(hours=1)))  # open now, closed in an hour
    queue_actions(app, account, users, n=1)
    action = db.session.scalar(select(ManualAction))
    when = (datetime.now(UTC) + timedelta(hours=4)).replace(second=0, microsecond=0)
    agent = as_user("agent")
    resp = agent.post(f"/api/manual-actions/{action.id}/complete",
                      json={"message": "Later", "send_at": when.isoformat()})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "quiet_hours"
    assert resp.json["error"]["message"].startswith(f"At the time picked it will be {when:%H:%M}")
    resp = agent.post(f"/api/manual-actions/{action.id}/complete",
                      json={"message": "Later", "send_at": when.isoformat(), "confirm_quiet_hours": True})
    assert resp.status_code == 200 and db.session.scalar(select(Message)).send_at == when.replace(tzinfo=None)


def test_a_manual_call_in_quiet_hours_needs_a_confirmation(app, account, users, as_user):
    outside_now(account)
    queue_actions(app, account, users, kind="manual_call", n=1)
    action = db.session.scalar(select(ManualAction))
    agent = as_user("agent")
    resp = agent.post(f"/api/manual-actions/{action.id}/dial")
    assert resp.status_code == 409 and resp.json["error"]["code"] == "quiet_hours"
    assert "Confirm to call them anyway" in resp.json["error"]["message"]
    assert db.session.scalar(select(Call)) is None
    resp = agent.post(f"/api/manual-actions/{action.id}/dial", json={"confirm_quiet_hours": True})
    assert resp.status_code == 201 and resp.json["status"] == "simulated"


def test_a_manual_call_inside_the_hours_dials_at_once(app, account, users, as_user):
    set_quiet_hours(account, *hours_around_now(-timedelta(hours=1)))
    queue_actions(app, account, users, kind="manual_call", n=1)
    action = db.session.scalar(select(ManualAction))
    assert as_user("agent").post(f"/api/manual-actions/{action.id}/dial").status_code == 201


def test_texting_from_the_thread_in_quiet_hours_needs_a_confirmation(app, account, as_user):
    outside_now(account)
    contact = make_contact(account, first_name="Ada", last_name="Lovelace", timezone="UTC")
    manager = as_user("manager")
    resp = manager.post(f"/api/contacts/{contact.id}/messages", json={"body": "Hi"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "quiet_hours"
    assert "for Ada Lovelace" in resp.json["error"]["message"]
    assert db.session.scalars(select(Message)).all() == []
    resp = manager.post(f"/api/contacts/{contact.id}/messages", json={"body": "Hi", "confirm_quiet_hours": True})
    assert resp.status_code == 201


def test_dnd_is_still_refused_before_quiet_hours_are_asked_about(app, account, as_user):
    outside_now(account)
    contact = make_contact(account, dnd_sms=True)
    resp = as_user("manager").post(f"/api/contacts/{contact.id}/messages",
                                   json={"body": "Hi", "confirm_quiet_hours": True})
    assert resp.status_code == 422
