"""Drip: contacts reaching the step go on in batches of `batch_size` per interval, in arrival order.

Each arrival takes a place from one counter per (workflow, step, live or test) that the store keeps
in the database, in the pass's transaction (`Store.drip_slot`), so every worker shares it, a Redis
restart loses nothing, and a pass that does not commit gives its places back. A contact whose batch
is due now goes straight on; the others wait at the step (status waiting) until their batch's time.

Batches are released at least one interval apart, and none holds more than `batch_size` arrivals:
the first arrival opens a batch at its own time, later ones join it until it is full, then open the
next one an interval later. After a quiet spell (the last batch ended an interval or more ago) the
next arrival opens a batch at once rather than catching up on empty intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marshmallow import Schema, fields, validate

from engine.registry import Action, Outcome, Result, register

UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
MAX_BATCH = 100_000
MAX_INTERVAL = 10_000


@dataclass(frozen=True)
class DripState:
    """Where a drip step's counter stands: the latest batch given out and how many arrivals it holds."""

    batch_at: datetime | None  # naive UTC release time of the latest batch; None before any arrival
    in_batch: int = 0


def next_place(state: DripState, now: datetime, batch_size: int, interval: timedelta) -> DripState:
    """The state after one more arrival at `now`; its `batch_at` is when that arrival goes on."""
    if state.batch_at is None or state.batch_at + interval <= now:
        return DripState(now, 1)  # no batch is open (or the last one's interval is over): release now
    if state.in_batch < batch_size:
        return DripState(state.batch_at, state.in_batch + 1)
    return DripState(state.batch_at + interval, 1)


def interval_of(cfg: dict) -> timedelta:
    return timedelta(seconds=cfg["interval_amount"] * UNITS[cfg["interval_unit"]])


class DripConfig(Schema):
    batch_size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_BATCH),
                                metadata={"label": "Contacts per batch"})
    interval_amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INTERVAL),
                                     metadata={"label": "Every"})
    interval_unit = fields.String(load_default="hours", validate=validate.OneOf(list(UNITS)),
                                  metadata={"label": "Unit"})


@register
class Drip(Action):
    type = "drip"
    label = "Drip"
    category = "Internal Tools"
    description = "Lets contacts through in batches: so many per interval, in the order they arrive."
    schema = DripConfig
    pauses = True

    def pauses_at(self, step):
        # A contact whose batch is due goes straight on, so a drip cannot be relied on to break a loop.
        return False

    def run(self, ctx):
        cfg = ctx.config
        batch_at, arrival = ctx.store.drip_slot(ctx.run, ctx.step.id, cfg["batch_size"], interval_of(cfg), ctx.now)
        output = {"batch_at": batch_at.isoformat(), "arrival": arrival}
        if batch_at <= ctx.now:
            return Result.go(ctx.step.next, **output)
        return Result(Outcome.WAITING, next=ctx.step.next, wake_at=batch_at, output=output)
