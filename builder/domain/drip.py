"""Drip steps' place counters (`drip_counters`), taken in the engine pass's transaction.

One row per (workflow, live or test, step id). An arrival first bumps `arrivals` with an
INSERT ... ON CONFLICT DO UPDATE: on PostgreSQL that locks the row until the pass commits, so passes
of other workers at the same step wait their turn and read the batch this one gave out; on SQLite
the pass already holds the database's one write lock (BEGIN IMMEDIATE). The order passes take the
lock in is the arrival order. A pass that does not commit gives its places back with its rollback,
so no batch ever holds more than its size.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from builder.models import DripCounter
from engine.actions.drip import DripState, next_place


def take_place(session: Session, workflow_id: int, is_test: bool, step_id: str, batch_size: int,
               interval: timedelta, now: datetime) -> tuple[datetime, int]:
    """(naive UTC time the arrival's batch goes on, its arrival number from 1)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DripCounter).values(workflow_id=workflow_id, is_test=is_test, step_id=step_id,
                                              arrivals=1, batch_at=None, in_batch=0)
    arrivals, batch_at, in_batch = session.execute(stmt.on_conflict_do_update(
        index_elements=[DripCounter.workflow_id, DripCounter.is_test, DripCounter.step_id],
        set_={"arrivals": DripCounter.arrivals + 1},
    ).returning(DripCounter.arrivals, DripCounter.batch_at, DripCounter.in_batch)).one()
    state = next_place(DripState(batch_at, in_batch), now, batch_size, interval)
    session.execute(update(DripCounter).where(
        DripCounter.workflow_id == workflow_id, DripCounter.is_test.is_(is_test), DripCounter.step_id == step_id,
    ).values(batch_at=state.batch_at, in_batch=state.in_batch))
    assert state.batch_at is not None
    return state.batch_at, arrivals
