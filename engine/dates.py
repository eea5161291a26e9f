"""Dates for the Math Operation and Text Formatter steps: reading one, moving it by calendar units, and
writing it in a chosen style in the contact's time zone.

A value is a date ("2026-12-01", "12/01/2026") or a date and time in ISO 8601 ("2026-12-01T09:00",
with or without an offset), or the words "today" / "now" (the contact's local date, the current time).
Problems raise ValueError with a message naming the value.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.arithmetic import shown

UNITS = ("days", "weeks", "months", "years")
AMOUNT_LIMIT = 100_000  # days, weeks, months or years: far beyond any real schedule
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Style -> an example, shown as its label; English names, whatever the server's locale.
FORMATS = {
    "long": "December 1, 2026",
    "long_weekday": "Tuesday, December 1, 2026",
    "short": "Dec 1, 2026",
    "us": "12/01/2026",
    "eu": "01/12/2026",
    "iso": "2026-12-01",
    "long_time": "December 1, 2026 at 9:05 AM",
    "us_time": "12/01/2026 9:05 AM",
    "time": "9:05 AM",
    "weekday": "Tuesday",
    "month_year": "December 2026",
}

Moment = date | datetime  # a datetime is also a date: check for datetime first


def contact_zone(name: str | None) -> tzinfo:
    """The contact's time zone (UTC when it has none), or ValueError if it names no known zone."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        raise ValueError(f"the contact's time zone {shown(name)} is not a known time zone") from None


def parse_date(text: str, now: datetime, zone: tzinfo) -> Moment:
    """The date or date and time `text` holds; `now` is naive UTC, `zone` the contact's (for "today")."""
    value = text.strip()
    word = value.lower()
    if word == "now":
        return now.replace(tzinfo=UTC).astimezone(zone)
    if word == "today":
        return now.replace(tzinfo=UTC).astimezone(zone).date()
    try:
        if len(value) == 10 and value[2] == "/" and value[5] == "/":  # MM/DD/YYYY
            return datetime.strptime(value, "%m/%d/%Y").date()
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{shown(value)} is not a date (use YYYY-MM-DD, MM/DD/YYYY or an ISO date and time)") \
            from None


def add_months(moment: Moment, months: int) -> Moment:
    """`moment` moved by calendar months; a day the month lacks becomes its last (Jan 31 + 1 month = Feb 28/29)."""
    years, month_index = divmod(moment.month - 1 + months, 12)
    year = moment.year + years
    if not 1 <= year <= 9999:
        raise ValueError("the date would fall outside the years 1 to 9999")
    month = month_index + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def shift(moment: Moment, amount: int, unit: str) -> Moment:
    """`moment` moved by `amount` (negative: back) days, weeks, months or years of the calendar."""
    if abs(amount) > AMOUNT_LIMIT:
        raise ValueError(f"{amount} {unit} is more than the {AMOUNT_LIMIT} allowed")
    if unit in ("months", "years"):
        return add_months(moment, amount * (12 if unit == "years" else 1))
    if unit not in ("days", "weeks"):
        raise ValueError(f"unknown unit {unit!r}")
    try:
        return moment + timedelta(days=amount * (7 if unit == "weeks" else 1))
    except OverflowError:
        raise ValueError("the date would fall outside the years 1 to 9999") from None


def as_text(moment: Moment) -> str:
    """ISO 8601: "2026-12-01", or "2026-12-01T09:00:00+00:00" for a date and time."""
    return moment.isoformat()


def in_zone(moment: Moment, zone: tzinfo) -> datetime:
    """A date and time as the contact's clock shows it: a time without an offset is UTC (as flowdesk
    stores times); a date alone is that day's midnight, left as it is."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        try:
            return aware.astimezone(zone)
        except OverflowError:
            raise ValueError(f"{as_text(moment)} is outside the dates that can be shown") from None
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone)


def format_date(moment: Moment, style: str, zone: tzinfo) -> str:
    """`moment` written in one of FORMATS, in `zone`."""
    local = in_zone(moment, zone)
    month, weekday = MONTHS[local.month - 1], WEEKDAYS[local.weekday()]
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    long = f"{month} {local.day}, {local.year}"
    us = f"{local.month:02d}/{local.day:02d}/{local.year:04d}"
    match style:
        case "long":
            return long
        case "long_weekday":
            return f"{weekday}, {long}"
        case "short":
            return f"{month[:3]} {local.day}, {local.year}"
        case "us":
            return us
        case "eu":
            return f"{local.day:02d}/{local.month:02d}/{local.year:04d}"
        case "iso":
            return local.date().isoformat()
        case "long_time":
            return f"{long} at {clock}"
        case "us_time":
            return f"{us} {clock}"
        case "time":
            return clock
        case "weekday":
            return weekday
        case "month_year":
            return f"{month} {local.year}"
    raise ValueError(f"unknown date format {style!r}")
