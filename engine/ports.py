"""What the engine needs from the outside world, as Protocols."""

from __future__ import annotations

from datetime import datetime, timedelta
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

    def drip_slot(self, run: RunState, step_id: str, batch_size: int, interval: timedelta,
                  now: datetime) -> tuple[datetime, int]:
        """A place for one arrival at a Drip step: (naive UTC time its batch goes on, arrival number from 1),
        from a counter per (workflow, step, test or not) shared by every worker and taken in the pass's
        transaction (engine.actions.drip.next_place decides the batch)."""
        ...

    def add_note(self, run: RunState, contact: ContactView, body: str, key: str) -> None: ...

    def queue_message(self, run: RunState, contact: ContactView, body: str, key: str,
                      retry: dict[str, int] | None = None) -> int:
        """Queue a text in the outbox; `retry` ({"max_attempts", "retry_backoff_seconds"}, either optional) is
        the step's retry policy for a provider's temporary refusal (None: the app's defaults)."""
        ...

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
        max_attempts, optionally retry_backoff_seconds) for the job layer to send once the pass has committed;
        returns its id."""
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
                   whisper_name: str | None, key: str, retry: dict[str, int] | None = None) -> int:
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
                    key: str, retry: dict[str, int] | None = None) -> int:
        """Store an email to `contact` in the email outbox; it is sent after the pass commits (`retry`: as
        for queue_message)."""
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

    # --- workflow handoff (Add to Workflow, Remove from Workflow) ---
    def add_to_workflow(self, run: RunState, contact: ContactView, workflow_id: int, key: str) -> dict[str, Any]:
        """Enroll `contact` in the account's published workflow `workflow_id` by the app's enrollment rules
        (the target's re-entry setting, one open run per contact and workflow); a test run enrolls a test
        run. Once per `key` (the step run's idempotency key): a pass taken again gets the same run.
        Returns {"workflow_id", "workflow_name", "run_id"}; "run_id" None with a "reason" when the target's
        rules refused, or an "error" when the target is missing, deleted, unpublished or another account's."""
        ...

    def end_runs(self, run: RunState, contact: ContactView, workflow_ids: list[int] | None,
                 reason: str) -> list[dict[str, Any]]:
        """End as cancelled, with `reason`, the contact's open runs in these workflows (None: every workflow
        but `run`'s), never `run` itself; test runs only for a test run, live runs only otherwise. Each run
        is locked first (a run another worker is moving ends after that pass). Their queued manual actions
        leave the queue. Returns [{"workflow_id", "run_id"}] of the runs ended."""
        ...

    def drop_queued_actions(self, run: RunState) -> int:
        """`run`'s own queued manual actions leave the queue (the run is being removed); how many."""
        ...

    def log_step(self, row: dict[str, Any]) -> None: ...

    def quiet_hours(self) -> dict[str, str] | None:
        """The account's quiet hours, {"start": "HH:MM", "end": "HH:MM"} (the hours it may text in),
        or None when the account has switched them off. See engine.quiet_hours."""
        ...
