"""What a handler gets: the step, the contact, the run, the store, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import merge
from engine.ports import ContactView, RunState, Store
from engine.step import Step


@dataclass
class StepContext:
    run: RunState
    step: Step
    contact: ContactView
    store: Store
    now: datetime  # naive UTC
    key: str  # idempotency key of this step run
    settings: dict[str, Any] = field(default_factory=dict)  # the workflow's settings (send window, ...)

    @property
    def config(self) -> dict:
        return self.step.config

    def render(self, template: str) -> str:
        return merge.render(template, self.contact, steps=self.run.vars, custom_values=self.custom_values(template))

    def custom_values(self, template: str) -> dict[str, str] | None:
        """The account's custom values when `template` may read them (asked of the store only then)."""
        return self.store.account_custom_values() if "custom_values" in template else None
