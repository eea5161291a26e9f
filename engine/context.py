"""What a handler gets: the step, the contact, the run, the store, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine import merge
from engine.graph import Step
from engine.ports import ContactView, RunState, Store


@dataclass
class StepContext:
    run: RunState
    step: Step
    contact: ContactView
    store: Store
    now: datetime  # naive UTC
    key: str  # idempotency key of this step run

    @property
    def config(self) -> dict:
        return self.step.config

    def render(self, template: str) -> str:
        return merge.render(template, self.contact)
