"""Send windows: automated SMS outside the workflow's days and hours wait for the window, in the contact's zone."""

from datetime import datetime

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from builder.extensions import db
from builder.models import Message, utcnow
from engine.graph import flatten, load_graph
from engine.send_window import DAYS, next_opening
from tests.engine.test_actions import enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.jobs.test_wait_for_reply import timers

WEEKDAYS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}


@pytest.mark.parametrize(("now", "zone", "expected"), [
    ("2026-11-24T10:00", "UTC", None),  # a Tuesday, inside
    ("2026-11-24T08:59", "UTC", "2026-11-24T09:00"),  # before it opens
    ("2026-11-24T17:00", "UTC", "2026-11-25T09:00"),  # the end is exclusive
    ("2026-11-27T18:00", "UTC", "2026-11-30T09:00"),  # Friday evening: Monday morning
    ("2026-11-24T15:00", "America/New_York", None),  # 10:00 in New York
    ("2026-11-24T23:00", "America/New_York", "2026-11-25T14:00"),  # 18:00 there: 09:00 there tomorrow
    ("2026-11-24T10:00", "Not/AZone", None),  # an unknown zone reads as UTC
])
def test_next_opening(now, zone, expected):
    opening = next_opening(WEEKDAYS, zone, datetime.fromisoformat(now))
    assert opening == (datetime.fromisoformat(expected) if expected else None)


def test_no_window_never_holds():
    assert next_opening(None, "UTC", datetime(2026, 11, 28, 3, 0)) is None


@pytest.mark.parametrize(("window", "path"), [
    ({"days": [], "start": "09:00", "end": "17:00"}, "settings.send_window.days"),
    ({"days": ["mon"], "start": "9am", "end": "17:00"}, "settings.send_window.start"),
    ({"days": ["monday"], "start": "09:00", "end": "17:00"}, "settings.send_window.days.0"),
    ({"days": ["mon"], "start": "17:00", "end": "09:00"}, "settings.send_window.end"),
])
def test_bad_windows_name_the_field(window, path):
    graph = flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}, send_window=window)
    with pytest.raises(ValidationError) as info:
        load_graph(graph)
    assert path in flatten(info.value.messages)


def closed_today() -> dict:
    """A window open every day but today (UTC), so whatever the hour the send must wait."""
    today = DAYS[utcnow().weekday()]
    return {"days": [d for d in DAYS if d != today], "start": "00:00", "end": "23:59"}


def test_a_send_outside_the_window_waits_then_goes_out(app, account):
    steps = {"s": {"type": "send_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": "t"},
             "t": {"type": "add_tag", "config": {"tag": "texted"}}}
    wf = make_workflow(account, flow(steps, send_window=closed_today()))
    contact = make_contact(account, timezone="UTC")
    enroll(app, wf, [contact])
    run = runs()[0]
    assert (run.status, run.current_step) == ("waiting", "s")
    assert run.wake_at > utcnow() and run.wake_at.time().strftime("%H:%M") == "00:00"
    assert db.session.scalars(select(Message)).all() == []
    assert logs()[0].output["reason"] == "outside the send window"

    # When the timer fires the window is checked again, in the contact's zone as it is then: moved to a zone
    # where it is already tomorrow (or still yesterday), the contact is inside the window.
    contact.timezone = "Pacific/Kiritimati" if utcnow().hour >= 10 else "Pacific/Pago_Pago"
    db.session.commit()
    assert len(timers(app)) == 1
    run_scheduled_jobs(app)
    run_jobs(app)
    run = fresh(run)
    assert run.status == "completed" and fresh(contact).tags == ["texted"]
    (message,) = db.session.scalars(select(Message)).all()
    assert message.body == "Hi Ada"


def test_a_send_inside_the_window_goes_at_once(app, account):
    window = {"days": list(DAYS), "start": "00:00", "end": "23:59"}
    if utcnow().strftime("%H:%M") == "23:59":
        window = None  # the one minute a same-day window cannot cover
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "Hi"}}}, send_window=window))
    enroll(app, wf, [make_contact(account)])
    assert runs()[0].status == "completed"
    assert len(db.session.scalars(select(Message)).all()) == 1
