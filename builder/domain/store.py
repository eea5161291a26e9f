"""The engine's Store, backed by SQLAlchemy.

Effects are added to the session and committed by the caller together with the
log rows; what must happen only after the commit (timers, sends, live events)
is collected in `after_commit` for the job layer to carry out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, insert, select
from sqlalchemy.orm import Session

from builder import config
from builder.domain import custom_fields, custom_values, drip, handover, phones, step_counts, workflow_handoff
from builder.domain.errors import Invalid
from builder.models import (
    Account,
    Call,
    CallStep,
    Contact,
    ContactTag,
    CustomValue,
    Email,
    Enrollment,
    ExecutionLog,
    ManualAction,
    Message,
    MessageStatus,
    Note,
    Notification,
    NotificationSms,
    OutboundRequest,
    OutboundSettings,
    OutboundStatus,
    Task,
    User,
    utcnow,
)
from engine import goals
from engine.statuses import RunStatus

CALL_PENDING = "pending"  # an automated call in our outbox, not yet handed to the provider
STANDARD_CONTACT_FIELDS = {"first_name", "last_name", "email", "timezone"}


@dataclass(frozen=True)
class LoggedStep:
    """A step run logged in the transaction, as the builder's live views need to hear of it."""

    workflow_id: int
    idempotency_key: str  # finds the log row once committed (the rows are inserted without returning ids)
    is_test: bool


@dataclass
class AfterCommit:
    """Work that must wait until the transaction that caused it has committed."""

    wakeups: list[tuple[int, int, datetime]] = field(default_factory=list)  # (enrollment, seq, when)
    resumes: list[tuple[int, int, str]] = field(default_factory=list)  # (enrollment, seq, event)
    messages: list[Message] = field(default_factory=list)  # new outbound texts, sent now unless scheduled
    scheduled: list[tuple[int, datetime]] = field(default_factory=list)  # (message, send_at) sent later
    received: list[int] = field(default_factory=list)  # inbound messages, for open conversations
    updated_messages: list[int] = field(default_factory=list)  # messages whose status moved
    inbound_events: list[int] = field(default_factory=list)  # stored inbound webhooks to process
    manual_actions: list[ManualAction] = field(default_factory=list)
    logged: list[LoggedStep] = field(default_factory=list)
    # Actions (or their ids) that left the queue: with their run, their contact or their workflow.
    removed_actions: list[ManualAction | int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)  # new active runs (e.g. from triggers)
    contacts: list[int] = field(default_factory=list)  # contacts whose details changed, for open pages
    # Live events already read in the change's own transaction, (event, payload, rooms): sent as they are.
    ready_events: list[tuple[str, Any, list[str]]] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)  # Send Email steps' emails, for the email outbox
    calls: list[int] = field(default_factory=list)  # automated calls to place (Call steps)
    call_checks: list[int] = field(default_factory=list)  # automated calls whose outcome is overdue: ask
    outbound_requests: list[int] = field(default_factory=list)  # Webhook and Slack requests to send
    # Tasks added, changed or deleted: (task id, "created" | "updated" | "deleted", former assignee if it moved).
    task_events: list[tuple[int, str, int | None]] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # new in-app notifications, for their users' bells
    notification_texts: list[int] = field(default_factory=list)  # of those, the ones to text to a user's phone
    # Actions changed (completed, reassigned, or following their contact to a new owner):
    # {action id: former assignee if it moved, else None}.
    updated_actions: dict[int, int | None] = field(default_factory=dict)

    def extend(self, other: AfterCommit) -> None:
        # Every field, read from the dataclass: a field added later cannot be left out here.
        for name in (f.name for f in fields(self)):
            mine = getattr(self, name)
            if isinstance(mine, dict):
                mine.update(getattr(other, name))
            else:
                mine.extend(getattr(other, name))


class SqlStore:
    def __init__(self, session: Session, account_id: int, rotation: Callable[[str], int]):
        self.session = session
        self.account_id = account_id
        self._rotation = rotation
        self._log_rows: list[dict[str, Any]] = []
        self._note_rows: list[dict[str, Any]] = []
        self._active_users: dict[tuple[int, ...], list[int]] = {}
        self._quiet_hours: tuple[dict[str, str] | None] | None = None  # read once per pass
        self._custom_values: dict[str, str] | None = None  # read once per pass
        self._owner_changes: dict[int, tuple[int | None, int | None]] = {}  # contact -> (former, new) owner
        # Contact events of the pass's steps, checked against goals when it saves (_meet_goals).
        self._goal_events: dict[int, tuple[Contact, list[goals.Event]]] = {}
        self.after_commit = AfterCommit()

    # --- internal notifications ---
    def active_user_ids_in_role(self, role: str) -> list[int]:
        return list(self.session.scalars(
            select(User.id).where(User.account_id == self.account_id, User.active, User.role == role)
            .order_by(User.id)))

    def user_phones(self, user_ids: list[int]) -> dict[int, str | None]:
        phones: dict[int, str | None] = dict.fromkeys(user_ids)
        for user_id, phone in self.session.execute(
                select(User.id, User.phone).where(User.id.in_(user_ids), User.account_id == self.account_id)):
            phones[user_id] = phone
        return phones

    def notify_users(
        self, run: Enrollment, contact: Contact, user_ids: list[int], *, title: str, body: str, key: str,
        sms_to: dict[int, str] | None = None, email_users: bool = False,
    ) -> list[int]:
        # Added (not batched) so the ids are known for the live events; the unique (key, user) stands behind
        # the check, so a step run notifies each user once, however often its pass is taken.
        notified = set(self.session.scalars(select(Notification.user_id).where(Notification.idempotency_key == key)))
        rows = [Notification(account_id=self.account_id, user_id=user_id, title=title, body=body,
                             contact_id=contact.id, workflow_id=run.workflow_id, enrollment_id=run.id,
                             idempotency_key=key, is_test=run.is_test, created_at=utcnow(),
                             sms_to=(sms_to or {}).get(user_id),
                             sms_status=NotificationSms.QUEUED if (sms_to or {}).get(user_id) else None)
                for user_id in dict.fromkeys(user_ids) if user_id not in notified]
        if rows:
            self.session.add_all(rows)
            self.session.flush()
            self.after_commit.notifications.extend(row.id for row in rows)
            self.after_commit.notification_texts.extend(row.id for row in rows if row.sms_status)
            if email_users:
                self._email_notifications(rows)
        return [row.id for row in rows]

    def _email_notifications(self, rows: list[Notification]) -> None:
        """Each notification's copy to its user's address, through the email outbox (jobqueue.email_outbox)."""
        addresses = dict(self.session.execute(select(User.id, User.email).where(
            User.id.in_([row.user_id for row in rows]), User.account_id == self.account_id)).all())
        emails = [Email(account_id=self.account_id, contact_id=row.contact_id, user_id=row.user_id,
                        workflow_id=row.workflow_id, enrollment_id=row.enrollment_id,
                        to_address=addresses[row.user_id], subject=row.title,
                        text_body=f"{row.title}\n\n{row.body}" if row.body else row.title, html_body=None,
                        status="queued", idempotency_key=f"notification:{row.id}", is_test=row.is_test, attempts=0)
                  for row in rows if addresses.get(row.user_id)]
        self.session.add_all(emails)
        self.session.flush()
        self.after_commit.emails.extend(email.id for email in emails)

    # --- tasks ---
    def create_task(
        self, run: Enrollment, contact: Contact, *, title: str, body: str, assignee_id: int, due_at: datetime,
        key: str,
    ) -> int:
        # Looked up first, so a pass taken again finds its task rather than failing on the unique key.
        existing = self.session.scalar(select(Task.id).where(Task.idempotency_key == key))
        if existing is not None:
            return existing
        task = Task(account_id=self.account_id, contact_id=contact.id, title=title, body=body,
                    assignee_id=assignee_id, due_at=due_at, workflow_id=run.workflow_id, enrollment_id=run.id,
                    idempotency_key=key, is_test=run.is_test)
        self.session.add(task)
        self.session.flush()
        self.after_commit.task_events.append((task.id, "created", None))
        return task.id

    # --- outbound webhooks ---
    def queue_outbound_request(self, run: Enrollment, step_id: str, request: dict[str, Any], key: str) -> int:
        # Flushed for its id (the step's output names it); sent by jobqueue.outbound_http after the commit.
        # A step run asks once: a pass taken again finds its request rather than failing on the unique key.
        existing = self.session.scalar(select(OutboundRequest.id).where(OutboundRequest.idempotency_key == key))
        if existing is not None:
            return existing
        row = OutboundRequest(account_id=self.account_id, enrollment_id=run.id, step_id=step_id, idempotency_key=key,
                              is_test=run.is_test, status=OutboundStatus.QUEUED.value, attempts=0, **request)
        self.session.add(row)
        self.session.flush()
        self.after_commit.outbound_requests.append(row.id)
        return row.id

    def outbound_result(self, request_id: int) -> dict[str, Any] | None:
        row = self.session.scalars(select(OutboundRequest).where(
            OutboundRequest.id == request_id, OutboundRequest.account_id == self.account_id)).one_or_none()
        if row is None or row.status not in (OutboundStatus.SUCCEEDED, OutboundStatus.FAILED):
            return None
        response = row.response or {}
        return {"request_id": row.id, "outcome": row.status, "status": row.response_status, "attempts": row.attempts,
                "headers": response.get("headers"), "body": response.get("body"),
                "truncated": response.get("truncated"), "error": row.error}

    def slack_configured(self) -> bool:
        return bool(self.session.scalar(select(OutboundSettings.slack_webhook_url_encrypted.is_not(None)).where(
            OutboundSettings.account_id == self.account_id)))

    # --- contact actions ---
    # Numbers written without +country code are read in this region (the job layer sets the app's
    # DEFAULT_PHONE_REGION; None: the environment's, for a store made elsewhere).
    phone_region: str | None = None

    def _region(self) -> str:
        if self.phone_region is None:
            self.phone_region = config.from_env()["DEFAULT_PHONE_REGION"]
        return self.phone_region

    def normalize_phone(self, raw: str) -> str:
        return phones.normalize_phone(raw, self._region())

    def find_contact(self, field: str, value: Any) -> Contact | None:
        query = select(Contact).where(Contact.account_id == self.account_id, Contact.deleted_at.is_(None))
        if field == "phone":
            query = query.where(Contact.phone == value)
        elif field == "email":
            query = query.where(func.lower(Contact.email) == str(value).lower())
        else:
            # As text on both databases (PostgreSQL's ->>, SQLite's json_extract), compared without case.
            stored = cast(Contact.custom_fields[field.removeprefix("custom.")].as_string(), String)
            query = query.where(func.lower(stored) == str(value).lower())
        return self.session.scalars(query.order_by(Contact.id).limit(1)).first()

    def custom_values(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return custom_fields.validate_values(self.account_id, values, region=self._region())
        except Invalid as exc:
            raise ValueError(exc.message) from None

    def create_contact(self, run: Enrollment, values: dict[str, Any]) -> Contact:
        # Imported here: builder.domain.contacts imports this module's AfterCommit.
        from builder.domain import contacts

        return contacts.create_contact(self.account_id, {**values, "is_test": run.is_test}, self.after_commit)

    def update_contact(self, contact: Contact, values: dict[str, Any]) -> None:
        from builder.domain import contacts  # see create_contact

        contacts.update_contact(contact, values, self.after_commit, goal_events_later=self._events_of(contact))

    def set_dnd(self, contact: Contact, fields: list[str], on: bool) -> None:
        for name in fields:
            setattr(contact, name, on)
        self.after_commit.contacts.append(contact.id)

    def set_engagement_score(self, contact: Contact, score: int) -> None:
        contact.engagement_score = score
        self._events_of(contact).append(goals.Event(goals.CONTACT_CHANGED))
        self.after_commit.contacts.append(contact.id)

    def delete_contact(self, contact: Contact) -> None:
        from builder.domain import contacts  # see create_contact

        contacts.delete_contact(contact, self.after_commit)

    # --- automated calls ---
    def queue_call(self, run: Enrollment, contact: Contact, *, step_id: str, bridge_number: str,
                   whisper_name: str | None, key: str, retry: dict[str, int] | None = None) -> int:
        # Flushed for its id (the step's output names it); placed by jobqueue.calls after the commit.
        existing = self.session.scalar(select(CallStep.call_id).where(CallStep.idempotency_key == key))
        if existing is not None:
            return existing
        call = Call(account_id=self.account_id, contact_id=contact.id, user_id=None, to_number=contact.phone or "",
                    status=CALL_PENDING, provider="pending", is_test=run.is_test)
        self.session.add(call)
        self.session.flush()
        self.session.add(CallStep(call_id=call.id, account_id=self.account_id, enrollment_id=run.id,
                                  workflow_id=run.workflow_id, step_id=step_id, idempotency_key=key,
                                  bridge_number=bridge_number, whisper_name=whisper_name, attempts=0,
                                  **(retry or {})))
        self.session.flush()
        self.after_commit.calls.append(call.id)
        return call.id

    def call_result(self, call_id: int) -> dict[str, Any] | None:
        return self._call_row(CallStep.call_id == call_id)

    def call_for_key(self, key: str) -> dict[str, Any] | None:
        return self._call_row(CallStep.idempotency_key == key)

    def _call_row(self, where: Any) -> dict[str, Any] | None:
        row = self.session.execute(
            select(Call.id, Call.status, Call.duration_seconds, Call.error, CallStep.outcome, CallStep.answered_by)
            .join(CallStep, CallStep.call_id == Call.id)
            .where(where, Call.account_id == self.account_id)
            .execution_options(populate_existing=True)).one_or_none()
        if row is None:
            return None
        return {"call_id": row.id, "status": row.status, "outcome": row.outcome, "answered_by": row.answered_by,
                "duration_seconds": row.duration_seconds, "error": row.error}

    def check_call(self, call_id: int) -> None:
        step = self.session.get(CallStep, call_id)
        if step is not None and step.account_id == self.account_id and step.outcome is None:
            step.check_requested_at = utcnow()
            self.after_commit.call_checks.append(call_id)

    def queue_email(self, run: Enrollment, contact: Contact, *, subject: str, text: str, html: str | None,
                    key: str, retry: dict[str, int] | None = None) -> int:
        # A pass taken again under the same key finds its email instead of queueing a second one.
        found = self.session.scalar(select(Email.id).where(Email.idempotency_key == key))
        if found is not None:
            return found
        email = Email(account_id=self.account_id, contact_id=contact.id, workflow_id=run.workflow_id,
                      enrollment_id=run.id, to_address=(contact.email or "").strip(), subject=subject,
                      text_body=text, html_body=html, status="queued", idempotency_key=key, is_test=run.is_test,
                      attempts=0, **(retry or {}))
        self.session.add(email)
        self.session.flush()
        self.after_commit.emails.append(email.id)
        return email.id

    # --- custom values ---
    def account_custom_values(self) -> dict[str, str]:
        if self._custom_values is None:  # read once per pass; set_account_custom_value keeps it current
            self._custom_values = custom_values.values_by_key(self.account_id)
        return self._custom_values

    def set_account_custom_value(self, key: str, value: str) -> str | None:
        # Locked until the pass commits, so two passes setting it one after the other each see the other's value.
        row = self.session.scalar(select(CustomValue).where(CustomValue.account_id == self.account_id,
                                                            CustomValue.key == key).with_for_update())
        if row is None:
            return None
        previous = row.value
        row.value, row.updated_by_id, row.updated_at = value, None, utcnow()
        self.account_custom_values()[key] = value
        return previous

    # --- contact effects ---
    def add_tag(self, contact: Contact, tag: str) -> bool:
        if tag.casefold() in {t.casefold() for t in contact.tags}:  # tags ignore case
            return False
        contact.tag_rows.append(ContactTag(tag=tag))
        self._events_of(contact).extend([goals.Event(goals.TAG_ADDED, tag), goals.Event(goals.CONTACT_CHANGED)])
        return True

    def remove_tag(self, contact: Contact, tag: str) -> bool:
        for row in contact.tag_rows:
            if row.tag.casefold() == tag.casefold():
                contact.tag_rows.remove(row)
                self._events_of(contact).extend([goals.Event(goals.TAG_REMOVED, row.tag),
                                                 goals.Event(goals.CONTACT_CHANGED)])
                return True
        return False

    def set_field(self, contact: Contact, name: str, value: Any) -> None:
        if name in STANDARD_CONTACT_FIELDS:
            setattr(contact, name, value or ("" if name != "email" else None))
        else:
            # Assign a new dict: JSON columns do not track in-place changes.
            contact.custom_fields = {**(contact.custom_fields or {}), name.removeprefix("custom."): value}
        self._events_of(contact).append(goals.Event(goals.CONTACT_CHANGED))

    def assign(self, contact: Contact, user_id: int | None) -> None:
        # Its queued actions follow it when the pass saves (flush_batched): one query for the whole pass
        # rather than a flush and a query per contact. A contact assigned twice keeps its first owner.
        former = self._owner_changes.get(contact.id, (contact.assigned_user_id, None))[0]
        self._owner_changes[contact.id] = (former, user_id)
        contact.assigned_user_id = user_id
        self._events_of(contact).append(goals.Event(goals.CONTACT_CHANGED))

    def active_user_ids(self, user_ids: list[int]) -> list[int]:
        key = tuple(user_ids)
        if key not in self._active_users:
            self._active_users[key] = list(self.session.scalars(
                select(User.id).where(User.id.in_(user_ids), User.active, User.account_id == self.account_id)
            ))
        return self._active_users[key]

    def next_in_rotation(self, key: str) -> int:
        return self._rotation(key)

    def drip_slot(self, run: Enrollment, step_id: str, batch_size: int, interval: timedelta,
                  now: datetime) -> tuple[datetime, int]:
        # In the database, not Redis: places survive a Redis restart and go back with a rolled-back pass.
        return drip.take_place(self.session, run.workflow_id, run.is_test, step_id, batch_size, interval, now)

    def add_note(self, run: Enrollment, contact: Contact, body: str, key: str) -> None:
        # Inserted with the log rows at the end of the pass (nothing reads notes in between).
        self._note_rows.append({
            "contact_id": contact.id, "body": body, "author_user_id": None, "workflow_id": run.workflow_id,
            "enrollment_id": run.id, "idempotency_key": key, "is_test": run.is_test, "created_at": utcnow(),
        })

    # --- outbound ---
    def queue_message(self, run: Enrollment, contact: Contact, body: str, key: str,
                      retry: dict[str, int] | None = None) -> int:
        message = Message(
            account_id=self.account_id, contact_id=contact.id, direction="outbound", channel="sms",
            to_number=contact.phone, body=body, status=MessageStatus.QUEUED, idempotency_key=key,
            workflow_id=run.workflow_id, enrollment_id=run.id, is_test=run.is_test, **(retry or {}),
        )
        self.session.add(message)
        self.session.flush()
        self.after_commit.messages.append(message)
        return message.id

    def create_manual_action(
        self, run: Enrollment, contact: Contact, *, kind: str, name: str, message: str | None,
        parks: bool, step_id: str, key: str,
    ) -> int:
        action = ManualAction(
            account_id=self.account_id, type=kind, name=name, assignee_id=contact.assigned_user_id,
            contact_id=contact.id, workflow_id=run.workflow_id, enrollment_id=run.id, step_id=step_id,
            parks_enrollment=parks, message=message, idempotency_key=key, is_test=run.is_test,
        )
        self.session.add(action)
        self.session.flush()
        self.after_commit.manual_actions.append(action)
        return action.id

    def quiet_hours(self) -> dict[str, str] | None:
        if self._quiet_hours is None:
            account = self.session.get(Account, self.account_id)
            self._quiet_hours = (account.quiet_hours if account is not None else None,)
        return self._quiet_hours[0]

    # --- workflow handoff ---
    def add_to_workflow(self, run: Enrollment, contact: Contact, workflow_id: int, key: str) -> dict[str, Any]:
        handed = workflow_handoff.add_to_workflow(self.session, self.account_id, run, contact.id, workflow_id, key)
        if handed.get("run_id") is not None:
            self.after_commit.started.append(handed["run_id"])  # a pass after the commit moves it
        return handed

    def end_runs(self, run: Enrollment, contact: Contact, workflow_ids: list[int] | None,
                 reason: str) -> list[dict[str, Any]]:
        ended, removed = workflow_handoff.end_runs(self.session, self, run, contact.id, workflow_ids, reason)
        self.after_commit.removed_actions.extend(removed)
        return ended

    def drop_queued_actions(self, run: Enrollment) -> int:
        removed = workflow_handoff.drop_queued_actions(self.session, [run.id])
        self.after_commit.removed_actions.extend(removed)
        return len(removed)

    # --- log ---
    def log_step(self, row: dict[str, Any]) -> None:
        self._log_rows.append(row)
        self.after_commit.logged.append(LoggedStep(row["workflow_id"], row["idempotency_key"], row["is_test"]))

    def flush_batched(self) -> None:
        """Save what the pass batched: the queued actions of reassigned contacts follow them, then one
        multi-row INSERT each for the notes and the step runs, and the step runs' additions to the
        builder's passed counts.

        Core inserts on the tables, not the ORM's bulk path: the rows are plain
        dicts with every column given, and nothing needs their ids back. The counters change
        in the same transaction as the log rows (whose idempotency keys are unique): a pass that
        does not commit, or whose step run was already logged, adds nothing.
        """
        if self._goal_events:
            self._meet_goals()  # first: the runs it moves log their jumps with this pass's rows
        if self._owner_changes:
            self.after_commit.updated_actions.update(handover.follow_contacts(self.session, self._owner_changes))
            self.after_commit.task_events.extend(handover.task_audience_changes(self.session, self._owner_changes))
            self._owner_changes = {}
        if self._note_rows:
            self.session.execute(insert(Note.__table__), self._note_rows)
            self._note_rows = []
        if self._log_rows:
            # Read before the insert: which runs pass a step for the first time (earlier rows decide).
            counts = step_counts.first_passes(self.session, self._log_rows)
            self.session.execute(insert(ExecutionLog.__table__), self._log_rows)
            # Last, just before the commit: the counter rows are shared by every pass of the workflow,
            # so their locks are held as briefly as possible.
            step_counts.add(self.session, counts)
            self._log_rows = []

    def _events_of(self, contact: Contact) -> list[goals.Event]:
        return self._goal_events.setdefault(contact.id, (contact, []))[1]

    def _meet_goals(self) -> None:
        """The pass's contact events meet the goals of the contacts' runs, once every run of the pass has
        stopped moving (a run is never jumped in the middle of its own step)."""
        from builder.domain import goal_events  # imports this module's SqlStore: see create_contact

        pending, self._goal_events = self._goal_events, {}
        for contact, events in pending.values():
            goal_events.meet(self.session, self.account_id, contact, events, self.after_commit, store=self)

    def note_pause(self, run: Enrollment) -> None:
        run.updated_at = utcnow()
        if run.status == RunStatus.WAITING and run.wake_at is not None:
            self.after_commit.wakeups.append((run.id, run.seq, run.wake_at))
