"""A run's statuses: the one definition the engine, the database and every query use."""

from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
    ACTIVE = "active"  # runnable now: a job will pick it up
    WAITING = "waiting"  # a timer will resume it at wake_at
    PARKED = "parked"  # waiting for a person (manual action)
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A run that has not ended: at most one per contact and workflow (outside test runs).
OPEN_STATUSES: tuple[RunStatus, ...] = (RunStatus.ACTIVE, RunStatus.WAITING, RunStatus.PARKED)
OPEN_VALUES: tuple[str, ...] = tuple(status.value for status in OPEN_STATUSES)
# A run waiting on a timer or a person: what a deleted contact or a reply must wake.
PAUSED_VALUES: tuple[str, ...] = (RunStatus.WAITING.value, RunStatus.PARKED.value)
