"""An account's quiet hours, and the next moment an automated SMS may leave.

Quiet hours are given as the hours the account may text in, {"start": "08:00", "end": "21:00"},
read every day in the contact's own time zone: start inclusive, end exclusive; an end before the
start runs overnight (22:00-06:00 allows late evening and early morning). A send must be inside
both the account's hours and the workflow's send window (see engine.send_window): the stricter wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from engine.actions.fields import time_zone
from engine.send_window import DAYS, parse_time

# Both schedules repeat every week in local time, so a week and a bit covers every case.
LOOKAHEAD_DAYS = 8


class NoOverlap(Exception):
    """The send window and the quiet hours have no moment in common: a held send would wait for ever."""


def inside_quiet_hours(quiet: dict[str, Any] | None, local: time) -> bool:
    """True if `local` (the contact's wall-clock time) is inside the allowed hours; no hours allow all."""
    if not quiet:
        return True
    start, end = parse_time(quiet["start"]), parse_time(quiet["end"])
    if start < end:
        return start <= local < end
    if start > end:  # overnight
        return local >= start or local < end
    return True  # equal bounds are refused by the settings; read them as no limit


def _inside_window(window: dict[str, Any] | None, local: datetime) -> bool:
    if not window or not window.get("days"):
        return True
    days = {DAYS.index(d) for d in window["days"]}
    start, end = parse_time(window["start"]), parse_time(window["end"])
    return local.weekday() in days and start <= local.time().replace(tzinfo=None) < end


def _zone(zone_name: str) -> tzinfo:
    return time_zone(zone_name) or time_zone("UTC")


def allowed_now(window: dict[str, Any] | None, quiet: dict[str, Any] | None, zone_name: str,
                now: datetime) -> bool:
    local = now.replace(tzinfo=UTC).astimezone(_zone(zone_name))
    return _inside_window(window, local) and inside_quiet_hours(quiet, local.time().replace(tzinfo=None))


def next_send_time(window: dict[str, Any] | None, quiet: dict[str, Any] | None, zone_name: str,
                   now: datetime) -> datetime | None:
    """None if `now` (naive UTC) is inside both, else the first naive UTC moment inside both.

    The first moment inside two sets of intervals is `now` or the start of one of their
    intervals, so only those are tried. Starts are wall-clock times made aware in the zone (a
    start inside a spring-forward gap opens when the clock jumps past it; a repeated fall-back
    hour opens at its first reading), and `allowed_now` checks every candidate against the clock
    as it really reads, so DST never lets a send through early.
    Raises NoOverlap when there is no such moment.
    """
    if allowed_now(window, quiet, zone_name, now):
        return None
    zone = _zone(zone_name)
    local_today = now.replace(tzinfo=UTC).astimezone(zone).date()
    starts: list[time] = [time(0, 0)]  # an overnight quiet-hours interval restarts at midnight
    if window and window.get("days"):
        starts.append(parse_time(window["start"]))
    if quiet:
        starts.append(parse_time(quiet["start"]))
    candidates = set()
    for ahead in range(-1, LOOKAHEAD_DAYS + 1):
        day = local_today + timedelta(days=ahead)
        for start in starts:
            wall = datetime.combine(day, start, tzinfo=zone)
            moment = wall.astimezone(UTC).replace(tzinfo=None)
            candidates.add(moment)
            shift = moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) - wall.replace(tzinfo=None)
            if shift > timedelta(0):
                # The wall time does not exist (spring forward): the clock jumps somewhere in the last
                # `shift` before `moment`; transitions fall on quarter hours, so try each of them.
                edge = moment - shift
                edge -= timedelta(minutes=edge.minute % 15, seconds=edge.second, microseconds=edge.microsecond)
                while edge < moment:
                    candidates.add(edge)
                    edge += timedelta(minutes=15)
    candidates = {moment for moment in candidates if moment > now}
    for moment in sorted(candidates):
        if allowed_now(window, quiet, zone_name, moment):
            return moment
    raise NoOverlap("the workflow's send window and the account's quiet hours never overlap")
