"""A step of a workflow graph as the engine runs it: plain data, so that the graph, the action
registry and the step context can all name it without importing one another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    name: str
    config: dict[str, Any]
    next: str | None

    @classmethod
    def from_dict(cls, step_id: str, raw: dict[str, Any]) -> Step:
        return cls(step_id, raw["type"], raw.get("name") or "", raw.get("config") or {}, raw.get("next"))
