"""builder.domain.reports.local_day: the viewer's calendar day of a stored (naive UTC) time, worked out in
SQL the same way on SQLite and PostgreSQL, across daylight saving changes and odd offsets."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select

from builder.domain.reports import MAX_DAYS, Period, local_day
from builder.extensions import db


def day_in_sql(when: str, period: Period) -> str:
    return db.session.scalar(select(local_day(literal(datetime.fromisoformat(when)), period)))


@pytest.mark.parametrize(("zone", "first", "last", "when", "expected"), [
    # London falls back from BST (UTC+1) to GMT at 01:00 UTC on 2026-10-25.
    ("Europe/London", "2026-10-24", "2026-10-26", "2026-10-24T23:30:00", "2026-10-25"),  # 00:30 BST
    ("Europe/London", "2026-10-24", "2026-10-26", "2026-10-25T23:30:00", "2026-10-25"),  # 23:30 GMT
    # India is UTC+5:30 all year.
    ("Asia/Kolkata", "2026-06-01", "2026-06-02", "2026-06-01T18:29:59", "2026-06-01"),
    ("Asia/Kolkata", "2026-06-01", "2026-06-02", "2026-06-01T18:30:00", "2026-06-02"),
    # Sydney: two changes in one long period (DST ends in April, starts in October).
    ("Australia/Sydney", "2026-01-01", "2026-12-31", "2026-01-10T13:30:00", "2026-01-11"),  # +11
    ("Australia/Sydney", "2026-01-01", "2026-12-31", "2026-07-10T13:30:00", "2026-07-10"),  # +10: 23:30
    ("Australia/Sydney", "2026-01-01", "2026-12-31", "2026-12-10T13:30:00", "2026-12-11"),  # +11 again
])
def test_local_day_follows_the_zones_rules(app, zone, first, last, when, expected):
    period = Period.of(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo(zone))
    assert day_in_sql(when, period) == expected


def test_a_period_spans_whole_local_days():
    period = Period.of(date(2026, 3, 7), date(2026, 3, 9), ZoneInfo("America/New_York"))
    assert (period.start, period.end) == (datetime(2026, 3, 7, 5), datetime(2026, 3, 10, 4))  # EST in, EDT out
    assert period.days() == ["2026-03-07", "2026-03-08", "2026-03-09"]
    longest = Period.of(date(2024, 1, 1), date(2024, 12, 31), ZoneInfo("UTC"))
    assert len(longest.days()) == MAX_DAYS
