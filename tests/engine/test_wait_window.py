"""Wait "until a time window": the days and hours in the contact's own zone; inside the window the contact
goes straight on, outside it waits for the window to open, across DST changes too. Engine alone: an
in-memory store and fixed clocks (the same step through the database and RQ is in tests/jobs/test_drip.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import pytest
from marshmallow import ValidationError

from engine import interpreter
from engine.actions.wait import Wait, WaitConfig, window_opens
from engine.graph import Graph
from tests.engine.memory_run import MemoryRun

WORKDAYS = {"mode": "window", "window_days": ["mon", "tue", "wed", "thu", "fri"],
            "window_start": "09:00", "window_end": "17:00"}


Run = partial(MemoryRun, current_step="w")


@dataclass
class Person:
    timezone: str
    id: int = 1
    deleted_at: datetime | None = None


@dataclass
class MemoryStore:
    logged: list[dict[str, Any]] = field(default_factory=list)

    def log_step(self, row):
        self.logged.append(row)


def wait_graph(config: dict) -> Graph:
    return Graph.from_dict({"name": "Window", "start": "w", "steps": {
        "w": {"type": "wait", "config": config, "next": "after"},
        "after": {"type": "end", "config": {}, "next": None},
    }})


def reach(config: dict, zone: str, now: datetime) -> tuple[Run, MemoryStore]:
    run, store = Run(), MemoryStore()
    interpreter.advance(run, wait_graph(config), Person(zone), store, now)  # type: ignore[arg-type]
    return run, store


def test_inside_the_window_the_contact_goes_straight_on():
    # Wednesday 2030-01-09 15:00 UTC is 10:00 in New York (EST).
    run, store = reach(WORKDAYS, "America/New_York", datetime(2030, 1, 9, 15, 0))
    assert run.status == "completed"
    assert store.logged[0]["outcome"] == "ok" and store.logged[0]["output"]["inside_window"] is True


def test_outside_the_window_the_contact_waits_for_it_to_open_in_its_own_zone():
    # Wednesday 2030-01-09 23:00 UTC: 18:00 in New York (closed until Thursday 09:00 EST = 14:00 UTC),
    # but 08:00 Thursday in Tokyo (opens at 09:00 JST = 00:00 UTC).
    run, store = reach(WORKDAYS, "America/New_York", datetime(2030, 1, 9, 23, 0))
    assert run.status == "waiting" and run.current_step == "w" and run.wake_at == datetime(2030, 1, 10, 14, 0)
    assert store.logged[0]["output"] == {"until": "2030-01-10T14:00:00", "next": "after"}
    run, _ = reach(WORKDAYS, "Asia/Tokyo", datetime(2030, 1, 9, 23, 0))
    assert run.wake_at == datetime(2030, 1, 10, 0, 0)


def test_friday_evening_waits_for_monday_then_goes_on():
    g = wait_graph(WORKDAYS)
    run, store = Run(), MemoryStore()
    friday_evening = datetime(2030, 1, 11, 22, 0)  # 17:00 EST: the end is exclusive
    interpreter.advance(run, g, Person("America/New_York"), store, friday_evening)  # type: ignore[arg-type]
    assert run.wake_at == datetime(2030, 1, 14, 14, 0)
    assert interpreter.resume(run, g, Person("America/New_York"), store, run.wake_at,  # type: ignore[arg-type]
                              seq=run.seq, event="timer")
    assert run.status == "completed"


def test_a_contact_without_a_known_zone_is_read_in_utc():
    run, _ = reach(WORKDAYS, "", datetime(2030, 1, 9, 18, 0))
    assert run.wake_at == datetime(2030, 1, 10, 9, 0)
    run, _ = reach(WORKDAYS, "Not/AZone", datetime(2030, 1, 9, 8, 0))
    assert run.wake_at == datetime(2030, 1, 9, 9, 0)


@pytest.mark.parametrize(("now", "opens"), [
    # Spring forward (New York, Sunday 2030-03-10): Saturday evening EST waits for Monday 09:00 EDT,
    # 13:00 UTC, not 14:00 as the offset of the evening it waited from would say.
    (datetime(2030, 3, 9, 23, 0), datetime(2030, 3, 11, 13, 0)),
    # Fall back (Sunday 2030-11-03): Friday evening EDT waits for Monday 09:00 EST, 14:00 UTC.
    (datetime(2030, 11, 1, 22, 0), datetime(2030, 11, 4, 14, 0)),
])
def test_the_window_opens_at_the_local_time_across_a_dst_change(now, opens):
    run, _ = reach(WORKDAYS, "America/New_York", now)
    assert run.wake_at == opens


def test_a_window_inside_the_spring_forward_gap_never_opens_early():
    # Europe/Berlin, Sunday 2030-03-31: 02:00-03:00 does not exist (the clock jumps from 02:00 to 03:00).
    # A Sunday window 02:30-03:30 opens when the clock jumps (03:00 CEST, 01:00 UTC), inside the window.
    sunday = {"mode": "window", "window_days": ["sun"], "window_start": "02:30", "window_end": "03:30"}
    opens = window_opens(sunday, "Europe/Berlin", datetime(2030, 3, 30, 12, 0))
    assert opens == datetime(2030, 3, 31, 1, 0)


@pytest.mark.parametrize(("config", "field_name"), [
    ({"mode": "window", "window_start": "09:00", "window_end": "17:00"}, "window_days"),
    ({"mode": "window", "window_days": [], "window_start": "09:00", "window_end": "17:00"}, "window_days"),
    ({"mode": "window", "window_days": ["monday"], "window_start": "09:00", "window_end": "17:00"}, "window_days"),
    ({"mode": "window", "window_days": ["mon"], "window_end": "17:00"}, "window_start"),
    ({"mode": "window", "window_days": ["mon"], "window_start": "9am", "window_end": "17:00"}, "window_start"),
    ({"mode": "window", "window_days": ["mon"], "window_start": "09:00", "window_end": "24:00"}, "window_end"),
    ({"mode": "window", "window_days": ["mon"], "window_start": "09:00"}, "window_end"),
    ({"mode": "window", "window_days": ["mon"], "window_start": "17:00", "window_end": "09:00"}, "window_end"),
])
def test_config_checks(config, field_name):
    with pytest.raises(ValidationError) as caught:
        WaitConfig().load(config)
    assert field_name in caught.value.messages


def test_a_window_is_no_loop_breaking_pause():
    assert Wait().pauses_at(wait_graph(WORKDAYS).steps["w"]) is False


def test_the_other_modes_ignore_the_window_fields():
    loaded = WaitConfig().load({"mode": "delay", "amount": 5})
    assert "window_days" not in loaded and "window_start" not in loaded
