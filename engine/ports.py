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
    dnd_email: bool
    engagement_score: int
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
    # Run variables: {step id: {field: value}}, the outputs of earlier steps that later steps read
    # ({{ steps.<step id>.<field> }}); None until a step whose output is read has run.
    vars: dict[str, Any] | None


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

    # --- internal notifications ---
    def active_user_ids_in_role(self, role: str) -> list[int]:
        """The account's active users with `role`, by id."""
        ...

    def user_phones(self, user_ids: list[int]) -> dict[int, str | None]:
        """The phone number each of these users gave in their profile (None: no phone)."""
        ...

    def notify_users(
        self, run: RunState, contact: ContactView, user_ids: list[int], *, title: str, body: str, key: str,
        sms_to: dict[int, str] | None = None, email_users: bool = False,
    ) -> list[int]:
        """One in-app notification per user, about `contact`; users already notified under `key` (the step
        run's idempotency key) are not notified again. A user in `sms_to` also gets a copy texted to that
        number after the commit; with `email_users`, every one gets a copy emailed to their login address.
        Returns the new notifications' ids."""
        ...

    # --- tasks ---
    def create_task(
        self, run: RunState, contact: ContactView, *, title: str, body: str, assignee_id: int, due_at: datetime,
        key: str,
    ) -> int:
        """A task about `contact` for `assignee_id`, due at `due_at` (naive UTC). A task already added under
        `key` (the step run's idempotency key) is not added again: its id is returned."""
        ...

    # --- outbound webhooks ---
    def queue_outbound_request(self, run: RunState, step_id: str, request: dict[str, Any], key: str) -> int:
        """Store an HTTP request (kind, method, url, headers, body, content_type, timeout_seconds,
        max_attempts) for the job layer to send once the pass has committed; returns its id."""
        ...

    def outbound_result(self, request_id: int) -> dict[str, Any] | None:
        """A finished request of this account: {"request_id", "outcome" ("succeeded" or "failed"), "status",
        "attempts", "headers", "body", "truncated", "error"}; None while it is still on its way."""
        ...

    def slack_configured(self) -> bool:
        """Whether the account has a Slack incoming-webhook URL."""
        ...

    # --- contact actions ---
    def normalize_phone(self, raw: str) -> str:
        """`raw` as an E.164 number, read as the account's contacts' numbers are; ValueError (a message fit
        for the log) when it is not a phone number."""
        ...

    def find_contact(self, field: str, value: Any) -> ContactView | None:
        """The account's first contact (oldest), not deleted, whose `field` equals `value`: "phone" (E.164),
        "email" (in any case) or "custom.<key>" (a custom value as stored, in any case)."""
        ...

    def custom_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Custom field values checked and normalised as the account's field definitions say; ValueError
        naming the key when one does not fit."""
        ...

    def create_contact(self, run: RunState, values: dict[str, Any]) -> ContactView:
        """A new contact (a test contact for a test run) through the app's one creation path, so
        "contact created" and "tag added" workflows start for it. `values`: checked standard fields
        (phone in E.164) and custom_fields as custom_values returns them."""
        ...

    def update_contact(self, contact: ContactView, values: dict[str, Any]) -> None:
        """Change these fields through the app's one update path (custom_fields merge key by key)."""
        ...

    def set_dnd(self, contact: ContactView, fields: list[str], on: bool) -> None:
        """Set the do-not-disturb flags named (dnd_sms, dnd_call, dnd_email); open pages hear of it."""
        ...

    def set_engagement_score(self, contact: ContactView, score: int) -> None: ...

    def delete_contact(self, contact: ContactView) -> None:
        """Soft-delete as the app does everywhere: the contact's other open runs end, its queued manual
        actions leave the queue."""
        ...

    # --- automated calls ---
    def queue_call(self, run: RunState, contact: ContactView, *, step_id: str, bridge_number: str,
                   whisper_name: str | None, key: str) -> int:
        """Store a call to `contact` for the job layer to place once the pass has committed: when the contact
        answers, `bridge_number` is rung (and hears `whisper_name` first, if given). A step run asks once:
        a pass taken again under the same `key` gets the same call's id."""
        ...

    def call_result(self, call_id: int) -> dict[str, Any] | None:
        """A call of this account: {"call_id", "status", "outcome" (None until it has ended), "answered_by",
        "duration_seconds", "error"}; None when there is no such call."""
        ...

    def call_for_key(self, key: str) -> dict[str, Any] | None:
        """The call a step run placed under `key` (as call_result), or None."""
        ...

    def check_call(self, call_id: int) -> None:
        """The step stopped waiting for the call's outcome: after the commit, ask the provider for it
        (recorded as failed if it cannot tell) and resume the run with "call:<call id>"."""
        ...

    # --- email ---
    def queue_email(self, run: RunState, contact: ContactView, *, subject: str, text: str, html: str | None,
                    key: str) -> int:
        """Store an email to `contact` in the email outbox; it is sent after the pass commits."""
        ...

    # --- custom values (Settings > Custom values) ---
    def account_custom_values(self) -> dict[str, str]:
        """The account's custom values, {key: value}, read once per pass (merge fields read them as
        {{ custom_values.<key> }}); a value set in this pass is seen by the steps after it."""
        ...

    def set_account_custom_value(self, key: str, value: str) -> str | None:
        """Set the account's custom value `key` in the pass's transaction; its previous value, or None
        (and nothing changes) when the account has no custom value `key`."""
        ...

    def log_step(self, row: dict[str, Any]) -> None: ...

    def quiet_hours(self) -> dict[str, str] | None:
        """The account's quiet hours, {"start": "HH:MM", "end": "HH:MM"} (the hours it may text in),
        or None when the account has switched them off. See engine.quiet_hours."""
        ...
