"""Drip, in the engine alone: an in-memory store and fixed clocks. Batches of N per interval in arrival
order, no batch over N, batches an interval apart, a quiet spell opens a batch at once; the contact waits
at the step (status waiting) until its batch, then goes on; test runs count apart; the config checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from marshmallow import ValidationError

from engine import interpreter
from engine.actions.drip import Drip, DripConfig, DripState, next_place
from engine.graph import Graph
from tests.engine.memory_run import MemoryRun

T0 = datetime(2030, 1, 7, 10, 0)
HOUR = timedelta(hours=1)


Run = partial(MemoryRun, current_step="d", contact_id=0)


@dataclass
class Person:
    id: int
    timezone: str = "UTC"
    deleted_at: datetime | None = None


@dataclass
class MemoryStore:
    """Only what a Drip step asks of the store: its counters (as SqlStore keys them) and the log."""

    counters: dict[tuple[int, bool, str], tuple[int, DripState]] = field(default_factory=dict)
    logged: list[dict[str, Any]] = field(default_factory=list)

    def drip_slot(self, run, step_id, batch_size, interval, now):
        key = (run.workflow_id, run.is_test, step_id)
        arrivals, state = self.counters.get(key, (0, DripState(None)))
        state = next_place(state, now, batch_size, interval)
        self.counters[key] = (arrivals + 1, state)
        return state.batch_at, arrivals + 1

    def log_step(self, row):
        self.logged.append(row)


def graph(batch_size: int = 3, amount: int = 1, unit: str = "hours") -> Graph:
    return Graph.from_dict({"name": "Drip", "start": "d", "steps": {
        "d": {"type": "drip", "config": {"batch_size": batch_size, "interval_amount": amount, "interval_unit": unit},
              "next": "after"},
        "after": {"type": "end", "config": {}, "next": None},
    }})


def arrive(store: MemoryStore, g: Graph, run_id: int, now: datetime, *, is_test: bool = False) -> Run:
    run = Run(run_id, contact_id=run_id, is_test=is_test)
    interpreter.advance(run, g, Person(run_id), store, now)  # type: ignore[arg-type]
    return run


def test_seven_arrivals_three_per_hour_go_in_slots_0_0_0_1h_1h_1h_2h():
    store, g = MemoryStore(), graph(3)
    runs = [arrive(store, g, i, T0) for i in range(1, 8)]
    # The first batch is due now: those three go straight on (and through to the end).
    assert [r.status for r in runs[:3]] == ["completed"] * 3
    assert [r.status for r in runs[3:]] == ["waiting"] * 4
    assert [r.current_step for r in runs[3:]] == ["d"] * 4
    assert [r.wake_at for r in runs[3:]] == [T0 + HOUR] * 3 + [T0 + 2 * HOUR]
    drip_rows = [row for row in store.logged if row["step_id"] == "d"]
    assert [row["output"]["batch_at"] for row in drip_rows] == [
        (T0 + k // 3 * HOUR).isoformat() for k in range(7)]
    assert [row["output"]["arrival"] for row in drip_rows] == list(range(1, 8))
    assert [row["outcome"] for row in drip_rows] == ["ok"] * 3 + ["waiting"] * 4


def test_a_waiting_contact_goes_on_when_its_batch_is_due():
    store, g = MemoryStore(), graph(1)
    arrive(store, g, 1, T0)
    run = arrive(store, g, 2, T0)
    assert run.status == "waiting" and run.wake_at == T0 + HOUR
    assert interpreter.resume(run, g, Person(2), store, T0 + HOUR, seq=run.seq, event="timer")  # type: ignore[arg-type]
    assert run.status == "completed"
    assert [(row["step_id"], row["outcome"]) for row in store.logged[-3:]] == [
        ("d", "waiting"), ("d", "ok"), ("after", "ended")]


def test_arrivals_spread_over_time_join_the_open_batch_then_the_next_one():
    store, g = MemoryStore(), graph(2)
    first = arrive(store, g, 1, T0)
    second = arrive(store, g, 2, T0 + timedelta(minutes=10))  # joins the batch released at T0: goes on now
    third = arrive(store, g, 3, T0 + timedelta(minutes=20))  # the batch is full: the next one, an hour after T0
    assert first.status == second.status == "completed"
    assert third.status == "waiting" and third.wake_at == T0 + HOUR


def test_after_a_quiet_spell_the_next_arrival_goes_at_once_without_catching_up():
    store, g = MemoryStore(), graph(1)
    for i in range(1, 4):
        arrive(store, g, i, T0)  # batches at T0, T0+1h, T0+2h
    later = T0 + 10 * HOUR
    assert arrive(store, g, 4, later).status == "completed"
    # The missed intervals do not add up: the next one waits a whole interval after that batch.
    assert arrive(store, g, 5, later).wake_at == later + HOUR


@pytest.mark.parametrize(("unit", "step"), [("minutes", timedelta(minutes=15)), ("hours", timedelta(hours=15)),
                                            ("days", timedelta(days=15))])
def test_the_interval_units(unit, step):
    store, g = MemoryStore(), graph(1, 15, unit)
    arrive(store, g, 1, T0)
    assert arrive(store, g, 2, T0).wake_at == T0 + step


def test_no_batch_holds_more_than_its_size_and_batches_are_an_interval_apart():
    store, g = MemoryStore(), graph(4)
    now = T0
    for i in range(1, 200):
        arrive(store, g, i, now)
        now += timedelta(minutes=(i * 7) % 23)  # an uneven flow: bursts and gaps
    batches: dict[str, int] = {}
    for row in store.logged:
        if row["step_id"] == "d":
            batches[row["output"]["batch_at"]] = batches.get(row["output"]["batch_at"], 0) + 1
    assert max(batches.values()) <= 4
    times = sorted(datetime.fromisoformat(t) for t in batches)
    assert all(b - a >= HOUR for a, b in zip(times, times[1:], strict=False))
    # Arrival order: a later arrival never goes before an earlier one.
    outs = [datetime.fromisoformat(row["output"]["batch_at"]) for row in store.logged if row["step_id"] == "d"]
    assert outs == sorted(outs)


def test_a_smaller_batch_size_after_an_edit_applies_to_the_open_batch():
    state = DripState(None)
    for _ in range(3):
        state = next_place(state, T0, 3, HOUR)
    assert state == DripState(T0, 3)
    # Saved again with batches of 2: the full batch stays, the next arrival waits for the next interval.
    assert next_place(state, T0, 2, HOUR) == DripState(T0 + HOUR, 1)


def test_test_runs_count_apart_from_live_runs():
    store, g = MemoryStore(), graph(1)
    arrive(store, g, 1, T0)
    assert arrive(store, g, 2, T0, is_test=True).status == "completed"  # its own counter: first in line
    assert arrive(store, g, 3, T0).wake_at == T0 + HOUR


def test_a_contact_coming_back_takes_a_new_place():
    store, g = MemoryStore(), graph(1)
    arrive(store, g, 1, T0)
    again = Run(1, contact_id=1)  # the same contact's next run
    interpreter.advance(again, g, Person(1), store, T0)  # type: ignore[arg-type]
    assert again.status == "waiting" and again.wake_at == T0 + HOUR


def test_a_drip_does_not_count_as_a_loop_breaking_pause():
    # Its batch may be due now, so a loop through it alone could spin.
    assert Drip().pauses_at(graph().steps["d"]) is False


@pytest.mark.parametrize(("config", "field_name"), [
    ({"interval_amount": 1}, "batch_size"),
    ({"batch_size": 0, "interval_amount": 1}, "batch_size"),
    ({"batch_size": 2.5, "interval_amount": 1}, "batch_size"),
    ({"batch_size": 3}, "interval_amount"),
    ({"batch_size": 3, "interval_amount": 0}, "interval_amount"),
    ({"batch_size": 3, "interval_amount": 1, "interval_unit": "seconds"}, "interval_unit"),
])
def test_config_checks(config, field_name):
    with pytest.raises(ValidationError) as caught:
        DripConfig().load(config)
    assert field_name in caught.value.messages


def test_the_unit_defaults_to_hours():
    assert DripConfig().load({"batch_size": 3, "interval_amount": 2})["interval_unit"] == "hours"
