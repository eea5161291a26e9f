"""A workflow's send window: the days and hours, in the contact's own time zone, when it may text them.

{"days": ["mon", ..., "sun"], "start": "09:00", "end": "17:00"}: start inclusive,
end exclusive, end after start (a window does not run past midnight).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from engine.actions.fields import time_zone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def next_opening(window: dict[str, Any] | None, zone_name: str, now: datetime) -> datetime | None:
    """None if `now` (naive UTC) is inside the window, else the naive UTC time it next opens."""
    if not window or not window.get("days"):
        return None
    zone = time_zone(zone_name) or time_zone("UTC")
    local = now.replace(tzinfo=UTC).astimezone(zone)
    start, end = parse_time(window["start"]), parse_time(window["end"])
    days = {DAYS.index(d) for d in window["days"]}
    if local.weekday() in days and start <= local.time().replace(tzinfo=None) < end:
        return None
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() not in days:
            continue
        opening = datetime.combine(day, start, tzinfo=zone)
        if opening > local:
            return opening.astimezone(UTC).replace(tzinfo=None)
    raise AssertionError("a window with at least one day opens within a week")
