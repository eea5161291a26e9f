"""What the engine needs from the outside world, as Protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class ContactView(Protocol):
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    timezone: str
    assigned_user_id: int | None
    dnd_sms: bool
    dnd_call: bool
    custom_fields: dict[str, Any]
    deleted_at: datetime | None

    @property
    def tags(self) -> list[str]: ...


class RunState(Protocol):
    """An enrollment as the engine sees it; the engine moves these attributes."""

    id: int
    workflow_id: int
    version_id: int
    contact_id: int
    status: str
    current_step: str | None
    seq: int
    wake_at: datetime | None
    is_test: bool
    error: str | None
    finished_at: datetime | None


class Store(Protocol):
    """Effects of steps. Calls made during one pass are committed together."""

    def add_tag(self, contact: ContactView, tag: str) -> bool: ...

    def remove_tag(self, contact: ContactView, tag: str) -> bool: ...

    def set_field(self, contact: ContactView, field: str, value: Any) -> None: ...

    def assign(self, contact: ContactView, user_id: int | None) -> None: ...

    def active_user_ids(self, user_ids: list[int]) -> list[int]: ...

    def next_in_rotation(self, key: str) -> int:
        """A counter that goes up by one per call, shared by every worker."""
        ...

    def add_note(self, run: RunState, contact: ContactView, body: str, key: str) -> None: ...

    def queue_message(self, run: RunState, contact: ContactView, body: str, key: str) -> int: ...

    def create_manual_action(
        self, run: RunState, contact: ContactView, *, kind: str, name: str, message: str | None,
        parks: bool, step_id: str, key: str,
    ) -> int: ...

    def log_step(self, row: dict[str, Any]) -> None: ...

    def quiet_hours(self) -> dict[str, str] | None:
        """The account's quiet hours, {"start": "HH:MM", "end": "HH:MM"} (the hours it may text in),
        or None when the account has switched them off. See engine.quiet_hours."""
        ...
