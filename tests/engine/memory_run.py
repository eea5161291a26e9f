"""A run as the engine sees it (engine.ports.RunState), kept in memory: for engine tests that need no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class MemoryRun:
    id: int = 1
    workflow_id: int = 1
    version_id: int = 1
    contact_id: int = 1
    status: str = "active"
    current_step: str | None = None
    seq: int = 0
    wake_at: datetime | None = None
    is_test: bool = False
    error: str | None = None
    finished_at: datetime | None = None
    vars: dict[str, Any] | None = None
