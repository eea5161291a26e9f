"""Database tables. Indexes follow the list and filter queries the API runs."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from builder.extensions import db
from engine.statuses import OPEN_STATUSES, OPEN_VALUES, RunStatus  # noqa: F401  (re-exported)

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on both databases


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_hook_secret() -> str:
    """A workflow's inbound-webhook secret: 128 random bits, as 32 hex digits like the old HMAC ones."""
    return secrets.token_hex(16)


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"


class Account(db.Model):
    __tablename__ = "accounts"
    # Twilio's default opt-out and opt-in words (since May 2025); an account may replace either list.
    DEFAULT_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
    DEFAULT_OPT_IN = ("START", "YES", "UNSTOP")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SMS compliance: null keyword lists mean the defaults above, so accounts follow them as they change.
    opt_out_keywords: Mapped[list[str] | None] = mapped_column(JSON)
    opt_in_keywords: Mapped[list[str] | None] = mapped_column(JSON)
    # Quiet hours: automated SMS go out only between start and end (HH:MM, the contact's local time;
    # an end before the start runs overnight). 08:00-21:00 is what US telemarketing rules allow.
    quiet_hours_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    quiet_hours_start: Mapped[str] = mapped_column(String(5), default="08:00", server_default="08:00")
    quiet_hours_end: Mapped[str] = mapped_column(String(5), default="21:00", server_default="21:00")

    @property
    def opt_out_words(self) -> tuple[str, ...]:
        return tuple(self.opt_out_keywords) if self.opt_out_keywords is not None else self.DEFAULT_OPT_OUT

    @property
    def opt_in_words(self) -> tuple[str, ...]:
        return tuple(self.opt_in_keywords) if self.opt_in_keywords is not None else self.DEFAULT_OPT_IN

    @property
    def quiet_hours(self) -> dict[str, str] | None:
        """The hours the account may text and call in, as the engine takes them; None when switched off."""
        if not self.quiet_hours_enabled:
            return None
        return {"start": self.quiet_hours_start, "end": self.quiet_hours_end}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT.value)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def can_see_all(self) -> bool:
        return self.role in (Role.ADMIN, Role.MANAGER)


class ApiToken(db.Model):
    """Bearer tokens; only a SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    user: Mapped[User] = relationship()

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple[ApiToken, str]:
        secret = secrets.token_urlsafe(32)
        return cls(user_id=user.id, token_hash=cls.hash(secret)), secret


class UserSession(db.Model):
    """A browser login: its id lives in the signed Flask session, so deleting the row ends it server-side.

    Only a SHA-256 of the id is stored, like API tokens: a leaked table row opens nothing.
    """

    __tablename__ = "user_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def start(cls, user: User) -> tuple[UserSession, str]:
        secret = secrets.token_urlsafe(32)
        return cls(id_hash=ApiToken.hash(secret), user_id=user.id), secret


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_account_phone", "account_id", "phone"),
        Index("ix_contacts_account_assignee", "account_id", "assigned_user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dnd_sms: Mapped[bool] = mapped_column(default=False)
    dnd_call: Mapped[bool] = mapped_column(default=False)
    dnd_email: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Moved by workflows (Modify Contact Engagement Score); may go below zero.
    engagement_score: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Soft delete: runs and logs that mention the contact stay readable.
    deleted_at: Mapped[datetime | None]

    tag_rows: Mapped[list[ContactTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactTag(db.Model):
    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag"),)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


# Tags ignore case: one spelling per contact ("VIP" and "vip" are one tag), and the tag filter
# (lower(tag) = lower(:tag)) finds a tag's contacts through this index.
Index("uq_contact_tags_lower", func.lower(ContactTag.tag), ContactTag.contact_id, unique=True)


class Note(db.Model):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Workflow(db.Model):
    __tablename__ = "workflows"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_versions.id", use_alter=True, name="fk_workflow_published_version")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when deleted while contacts were still in it ("let them finish"): hidden, and removed when
    # its last run ends (builder.api.workflow_removal).
    deleted_at: Mapped[datetime | None]
    # The inbound-webhook URL's secret (builder.domain.workflow_hooks), rotated per workflow. A NULL
    # hook_rotated_at: set by migration 0017 and never rotated since, so the URL from before (an HMAC
    # under SECRET_KEY) is still accepted as well. A sample request is captured while hook_listen_until
    # is ahead; the sample is read by the builder only, hence deferred.
    hook_secret: Mapped[str] = mapped_column(String(64), default=new_hook_secret)
    hook_rotated_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    hook_listen_until: Mapped[datetime | None]
    hook_sample: Mapped[Any | None] = mapped_column(JSON, deferred=True)
    hook_sample_at: Mapped[datetime | None]

    versions: Mapped[list[WorkflowVersion]] = relationship(
        foreign_keys="WorkflowVersion.workflow_id", order_by="WorkflowVersion.number", viewonly=True
    )
    published_version: Mapped[WorkflowVersion | None] = relationship(foreign_keys=[published_version_id])

    def latest_version(self) -> WorkflowVersion | None:
        return db.session.scalar(
            db.select(WorkflowVersion)
            .where(WorkflowVersion.workflow_id == self.id)
            .order_by(WorkflowVersion.number.desc())
            .limit(1)
        )


class WorkflowVersion(db.Model):
    """An immutable snapshot of a graph. Saving makes a new one."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    number: Mapped[int]
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]


EnrollmentStatus = RunStatus  # the engine's statuses are the column's values
READY_CLAUSE = f"status = '{RunStatus.ACTIVE.value}'"
OPEN_RUN_CLAUSE = f"status IN ({', '.join(repr(value) for value in OPEN_VALUES)}) AND is_test = false"


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("workflow_id", "contact_id", "source_key", name="uq_enrollment_source"),
        Index("ix_enrollments_workflow_status", "workflow_id", "status"),
        Index("ix_enrollments_status_wake", "status", "wake_at"),
        Index("ix_enrollments_contact", "contact_id", "workflow_id"),
        Index("ix_enrollments_source", "source_key"),
        # The runs an "advance ready runs" pass claims, in id order (jobqueue.ready): only the few
        # rows that are runnable right now, however many runs wait or have ended.
        Index("ix_enrollments_ready", "id", postgresql_where=text(READY_CLAUSE), sqlite_where=text(READY_CLAUSE)),
        # A contact is never in the same workflow twice at once (test runs aside):
        # the database settles the race between two enroll jobs for one contact.
        Index("uq_enrollment_open", "workflow_id", "contact_id", unique=True,
              postgresql_where=text(OPEN_RUN_CLAUSE), sqlite_where=text(OPEN_RUN_CLAUSE)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    status: Mapped[str] = mapped_column(String(20), default=EnrollmentStatus.ACTIVE.value)
    current_step: Mapped[str | None] = mapped_column(String(64))
    # Counts step runs; with the id it forms each step run's idempotency key.
    seq: Mapped[int] = mapped_column(default=0)
    wake_at: Mapped[datetime | None]
    is_test: Mapped[bool] = mapped_column(default=False)
    source_key: Mapped[str] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Run variables: the outputs of earlier steps that later steps read (engine.step_refs); None when none.
    vars: Mapped[dict | None] = mapped_column(JSON)

    contact: Mapped[Contact] = relationship()
    version: Mapped[WorkflowVersion] = relationship()


class ExecutionLog(db.Model):
    """One row per step run: what ran, with what, and how it went."""

    __tablename__ = "execution_logs"
    __table_args__ = (
        Index("ix_execution_logs_workflow", "workflow_id", "id"),
        # A run's log; also how the engine tells a run's first pass of a step (builder.domain.step_counts).
        Index("ix_execution_logs_enrollment", "enrollment_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    step_id: Mapped[str] = mapped_column(String(64))
    step_type: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(20))
    output: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    is_test: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[float] = mapped_column(default=0.0)


class ManualActionType(enum.StrEnum):
    SMS = "sms"
    CALL = "call"


class ManualActionStatus(enum.StrEnum):
    QUEUED = "queued"
    COMPLETED = "completed"
    DELETED = "deleted"


class MessageStatus(enum.StrEnum):
    """An SMS's state: outbound ones move queued -> sending -> accepted/sent -> delivered (or undelivered,
    failed; unknown when a send was interrupted and may or may not have gone); inbound ones are received."""

    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    RECEIVED = "received"


class ManualAction(db.Model):
    __tablename__ = "manual_actions"
    __table_args__ = (
        Index("ix_manual_actions_queue", "account_id", "status", "assignee_id", "created_at"),
        # The whole account's queue, newest first, and its counts by type (managers' views).
        Index("ix_manual_actions_status_created", "account_id", "status", "created_at"),
        Index("ix_manual_actions_status_type", "account_id", "status", "type", "created_at"),
        Index("ix_manual_actions_workflow", "account_id", "workflow_id", "status", "created_at"),
        Index("ix_manual_actions_contact", "contact_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=ManualActionStatus.QUEUED.value)
    name: Mapped[str] = mapped_column(String(200), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="SET NULL"))
    step_id: Mapped[str | None] = mapped_column(String(64))
    # The workflow waits for this action when parks_enrollment is set.
    parks_enrollment: Mapped[bool] = mapped_column(default=True)
    message: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]
    # Let's Start claims an action for one person; the lease runs out if they walk away.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claim_expires_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    workflow: Mapped[Workflow | None] = relationship()


class Message(db.Model):
    """The conversation log; outbound rows double as the send outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_contact", "contact_id", "created_at"),
        Index("ix_messages_status", "status", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    to_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    # Outbound: queued -> sending -> sent (console) | accepted -> sent -> delivered | undelivered (Twilio)
    # | failed; "unknown" if a send was cut short. Inbound: received.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="SET NULL"))
    manual_action_id: Mapped[int | None] = mapped_column(ForeignKey("manual_actions.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_test: Mapped[bool] = mapped_column(default=False)
    send_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The sender: the contact for inbound rows, our number for outbound ones when known.
    from_number: Mapped[str | None] = mapped_column(String(20))
    # The provider's error code when it refused or could not deliver (Twilio: 21211, 30003, ...).
    error_code: Mapped[str | None] = mapped_column(String(20))
    status_at: Mapped[datetime | None]  # when the status last changed
    # Send attempts so far; a 429 or 5xx from the provider queues the message again for retry_at.
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    retry_at: Mapped[datetime | None]
    # A Send SMS step's retry policy (engine.actions.failures); null: TWILIO_RETRY_DELAYS.
    max_attempts: Mapped[int | None]
    retry_backoff_seconds: Mapped[int | None]


class BulkEnrollment(db.Model):
    """One enroll request; chunk jobs work through its contacts (BulkEnrollmentContact), drip-spaced."""

    __tablename__ = "bulk_enrollments"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    is_test: Mapped[bool] = mapped_column(default=False)
    batch_size: Mapped[int]
    interval_seconds: Mapped[int] = mapped_column(default=0)
    total: Mapped[int]
    processed: Mapped[int] = mapped_column(default=0)
    enrolled: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def batch_count(self) -> int:
        return -(-self.total // self.batch_size) if self.total else 0


class BulkEnrollmentContact(db.Model):
    """A request's contacts in order, one row each: batch `i` reads positions
    [i * batch_size, (i + 1) * batch_size) off the primary key, never the whole list.

    No foreign key to contacts: a contact deleted meanwhile is skipped by its batch, as before.
    """

    __tablename__ = "bulk_enrollment_contacts"
    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_enrollments.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0-based
    contact_id: Mapped[int]


class BulkEnrollmentBatch(db.Model):
    """Marks a batch of a bulk request as enrolled, in the same transaction as its enrollments."""

    __tablename__ = "bulk_enrollment_batches"
    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_enrollments.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(primary_key=True)
    enrolled: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(db.Model):
    """A call placed from a Manual Call action (the agent's phone rings, then the contact's), or by a workflow's
    Call step (the contact's rings, then the user's: see CallStep)."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    manual_action_id: Mapped[int | None] = mapped_column(ForeignKey("manual_actions.id", ondelete="SET NULL"),
                                                         index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    # The agent who placed it; null for a call a workflow's Call step placed (see CallStep).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_number: Mapped[str] = mapped_column(String(20))
    # pending (a Call step's, not yet placed) | simulated (console provider) | initiating (being placed),
    # queued, initiated, ringing, in-progress,
    # completed, busy, no-answer, failed, canceled (Twilio) | unknown (placing it timed out)
    status: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    duration_seconds: Mapped[int | None]
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]  # when the status last changed
    error: Mapped[str | None] = mapped_column(Text)  # why the call could not be placed


class TwilioSettings(db.Model):
    """An account's own Twilio credentials and sender; the auth token is stored encrypted
    (builder/twilio_settings.py). Accounts without a row use the environment's TWILIO_* settings."""

    __tablename__ = "twilio_settings"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    account_sid: Mapped[str] = mapped_column(String(34), index=True)
    auth_token_encrypted: Mapped[str] = mapped_column(Text)
    from_number: Mapped[str | None] = mapped_column(String(20))
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundEvent(db.Model):
    """An inbound SMS exactly as Twilio posted it, stored once per MessageSid before any
    work is done; a job turns it into a conversation message (queue/inbound.py)."""

    __tablename__ = "inbound_events"
    __table_args__ = (Index("ix_inbound_events_pending", "processed_at", "received_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    # Why no message was recorded, e.g. the sender is a short code rather than a phone number.
    note: Mapped[str | None] = mapped_column(Text)


class StepCount(db.Model):
    """Distinct runs that passed a step (test runs apart): the builder's "passed" counts, added to
    by the engine's transactions (builder.domain.step_counts), so they outlive pruned logs."""

    __tablename__ = "step_counts"
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True)
    is_test: Mapped[bool] = mapped_column(primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    passed: Mapped[int] = mapped_column(default=0)


class DripCounter(db.Model):
    """A Drip step's place counter (test runs apart), shared by every worker: the latest batch given
    out and how full it is (builder.domain.drip). Kept per step id, so a new version goes on pacing."""

    __tablename__ = "drip_counters"
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True)
    is_test: Mapped[bool] = mapped_column(primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    arrivals: Mapped[int] = mapped_column(default=0)
    batch_at: Mapped[datetime | None]
    in_batch: Mapped[int] = mapped_column(default=0)


class AuditEvent(db.Model):
    """Who changed what and when: team changes, settings saved, workflows published and deleted.

    Written in the same transaction as the change it records (builder.domain.audit), so one never
    stands without the other. The target's label is kept as it was, since workflows get deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_newest", "account_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomField(db.Model):
    """A custom contact field the account defined (Settings > Custom fields). Values live in
    Contact.custom_fields under `key`, which never changes once created."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_custom_fields_account_key"),)
    TYPES = ("text", "number", "date", "choice", "phone", "email")

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    choices: Mapped[list[str] | None] = mapped_column(JSON)  # choice fields only
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactImportStatus(enum.StrEnum):
    """uploaded (waiting for its mapping) -> queued -> running -> finished | failed."""

    UPLOADED = "uploaded"
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class ContactImport(db.Model):
    """A CSV upload and the job that reads it (jobqueue.contact_import). The counters move in the same
    transaction as each chunk's contacts, so a worker killed mid-import resumes after the last chunk."""

    __tablename__ = "contact_imports"
    __table_args__ = (Index("ix_contact_imports_account", "account_id", "id"),
                      Index("ix_contact_imports_status", "status", "updated_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, shown to people
    stored_name: Mapped[str] = mapped_column(String(100))  # the file under IMPORT_DIR
    status: Mapped[str] = mapped_column(String(20), default=ContactImportStatus.UPLOADED.value)
    # How to read the file: {"encoding", "delimiter"}; the header row as read.
    file_format: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    mapping: Mapped[list[str] | None] = mapped_column(JSON)  # one target per column (builder.domain.contact_import)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    total: Mapped[int | None]  # data rows, counted when the job starts
    processed: Mapped[int] = mapped_column(default=0)  # data rows committed, rejected ones included
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    bulk_enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_enrollments.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ContactImportRejection(db.Model):
    """A row the import refused: the report people download (row number, reason, the row as it was)."""

    __tablename__ = "contact_import_rejections"
    import_id: Mapped[int] = mapped_column(ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True)
    row_number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 1 = the first data row
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[list[str]] = mapped_column(JSON)


class ContactImportContact(db.Model):
    """The contacts an import created or updated, in file order, when they go on into a workflow:
    the enroll request reads them with one INSERT ... SELECT (jobqueue.enroll.ContactQuery)."""

    __tablename__ = "contact_import_contacts"
    import_id: Mapped[int] = mapped_column(ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the row number
    contact_id: Mapped[int]


class ContactImportMapping(db.Model):
    """The mapping an account last used for a header row, offered again for a file with the same headers."""

    __tablename__ = "contact_import_mappings"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    headers_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the normalised headers
    mapping: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkflowTemplate(db.Model):
    """An account's own starting point for new workflows, saved by an admin from a workflow. The graph is
    kept as an export writes it (users by email), so a user removed since is reported, not an error."""

    __tablename__ = "workflow_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- internal notifications ---
class NotificationSms(enum.StrEnum):
    """The copy of a notification texted to its user's own phone: queued -> sending -> sent | failed, or
    unknown when a send was cut short (it is never tried again, so never sent twice)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Notification(db.Model):
    """An in-app notification for one user (the Send Internal Notification action). Written in the engine pass's
    transaction; unique per (step run, user), so a step run never notifies anyone twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("idempotency_key", "user_id", name="uq_notifications_key_user"),
        Index("ix_notifications_user", "user_id", "id"),
        # The bell's count and the unread filter: only the rows still unread.
        Index("ix_notifications_user_unread", "user_id", "id",
              postgresql_where=text("read_at IS NULL"), sqlite_where=text("read_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # The copy texted to the user's own phone when the step asks for one (jobqueue.notification_sms):
    # queued -> sending -> sent | failed | unknown (cut short: never sent again). Null: no text was asked for.
    sms_to: Mapped[str | None] = mapped_column(String(20))
    sms_status: Mapped[str | None] = mapped_column(String(20))
    sms_error: Mapped[str | None] = mapped_column(Text)
    sms_sent_at: Mapped[datetime | None]


# --- outbound webhooks and Slack ---
class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its first attempt or a retry (retry_at)
    SENDING = "sending"  # claimed by a worker; an attempt is on the line
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its run had moved on before it was sent


class OutboundSettings(db.Model):
    """An account's secrets for outbound requests: the signing secret of its webhooks and its Slack
    incoming-webhook URL, both encrypted at rest (builder/integrations/outbound.py)."""

    __tablename__ = "outbound_settings"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    signing_secret_encrypted: Mapped[str] = mapped_column(Text)
    slack_webhook_url_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboundRequest(db.Model):
    """One HTTP request a Webhook or Slack step asked for, sent by a job after the step's pass committed
    (jobqueue.outbound_http); its run stays parked until the request succeeds or fails for good."""

    __tablename__ = "outbound_requests"
    __table_args__ = (Index("ix_outbound_requests_status", "status", "retry_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # webhook | slack (its URL is read from the settings when sent)
    method: Mapped[str] = mapped_column(String(7))
    url: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[list[list[str]]] = mapped_column(JSON)  # [[name, value], ...] as rendered
    body: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    timeout_seconds: Mapped[int] = mapped_column(default=10)
    max_attempts: Mapped[int] = mapped_column(default=1)
    retry_backoff_seconds: Mapped[int | None]  # the step's exponential backoff; null: WEBHOOK_RETRY_DELAYS
    # The step run's key: sent as Idempotency-Key on every attempt, so receivers can drop repeats.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=OutboundStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    response_status: Mapped[int | None]
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"headers", "body", "truncated"}
    error: Mapped[str | None] = mapped_column(Text)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


# --- tasks ---

class TaskStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class Task(db.Model):
    """A to-do about a contact for one person, due at a time: added by a user or by a workflow's Add Task step.

    Deleting sets deleted_at (the row stays, so the live event that announces it can still say to whom)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # "My open tasks by due date": an assignee's list and their dashboard counts.
        Index("ix_tasks_assignee_due", "account_id", "assignee_id", "status", "due_at"),
        # Everyone's tasks by due date (admins and managers).
        Index("ix_tasks_account_due", "account_id", "status", "due_at"),
        # A contact's tasks, on their page.
        Index("ix_tasks_contact", "contact_id", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN.value)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who added it: a user, or a workflow run (its step run's idempotency key makes a retried pass add it once).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    workflow: Mapped[Workflow | None] = relationship()


# --- contact actions ---
# Find Contact and Create Contact look a contact up by email in any case, within its account.
Index("ix_contacts_account_email_lower", Contact.account_id, func.lower(Contact.email))


# --- automated calls ---
class CallOutcome(enum.StrEnum):
    """How an automated call ended, as the step's output and the conversation show it."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


class CallStep(db.Model):
    """The workflow side of a call a Call step placed (its `calls` row is what the conversation shows).

    The calls row moves pending (in our outbox) -> initiating (claimed by one worker, being placed) ->
    Twilio's statuses; `outcome` is set once, when the call has ended (or could not be placed), and the
    run waiting at the step is resumed with the event "call:<call id>"."""

    __tablename__ = "call_steps"
    __table_args__ = (Index("ix_call_steps_open", "outcome", "created_at"),)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    step_id: Mapped[str] = mapped_column(String(64))
    # The step run's key: a pass taken again finds its call instead of placing a second one.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    bridge_number: Mapped[str] = mapped_column(String(20))  # rung once the contact answers
    whisper_name: Mapped[str | None] = mapped_column(String(200))  # said to the user first; null: no whisper
    outcome: Mapped[str | None] = mapped_column(String(20))  # CallOutcome once the call has ended
    answered_by: Mapped[str | None] = mapped_column(String(30))  # Twilio's AnsweredBy (human, machine_start, ...)
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    # The Call step's retry policy for placing the call (engine.actions.failures); null: TWILIO_RETRY_DELAYS.
    max_attempts: Mapped[int | None]
    retry_backoff_seconds: Mapped[int | None]
    claimed_at: Mapped[datetime | None]
    # The step's time ran out before an outcome came: a job asks the provider (jobqueue.calls.check).
    check_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- email ---
class Email(db.Model):
    """An email to a contact: the conversation shows it, and queued rows are the email outbox.

    Its own table rather than a channel of `messages`: the SMS code (reply attribution, Twilio status
    callbacks, the SMS outbox and its reconciler) selects messages by status alone, and an email there
    would need a channel test in each. The conversation merges kinds anyway (builder.domain.timeline).

    Moves queued -> sending -> sent | failed (cancelled: DND turned on before it went); a send cut short
    is marked unknown by the reconciler and never sent again. Statuses are MessageStatus values.

    With `user_id` set it is an internal notification's copy to that user (about `contact_id`): the same
    outbox and guarantees, but not in the contact's conversation, without an unsubscribe link, and the
    contact's email DND does not apply to it."""

    __tablename__ = "emails"
    __table_args__ = (
        Index("ix_emails_contact", "contact_id", "created_at"),
        Index("ix_emails_status", "status", "retry_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(998))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider: Mapped[str | None] = mapped_column(String(20))  # "smtp" or "console" (simulated)
    message_id_header: Mapped[str | None] = mapped_column(String(255))  # the Message-ID it was sent with
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(20))  # the SMTP reply code, "dnd", ...
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    is_test: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    # A Send Email step's retry policy (engine.actions.failures); null: EMAIL_RETRY_DELAYS.
    max_attempts: Mapped[int | None]
    retry_backoff_seconds: Mapped[int | None]
    status_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class EmailSettings(db.Model):
    """An account's SMTP server and sender (Settings > Email); the password is sealed (Fernet)."""

    __tablename__ = "email_settings"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int]
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    security: Mapped[str] = mapped_column(String(10), default="starttls")  # starttls | tls | none
    from_address: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomValue(db.Model):
    """An account-level value (Settings > Custom values) that every template reads as
    {{ custom_values.<key> }}; the Update Custom Value step changes it."""

    __tablename__ = "custom_values"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_custom_values_account_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text, default="")
    # Who last set it: None when a workflow step did (or the user has gone).
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
