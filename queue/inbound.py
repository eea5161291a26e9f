"""Inbound SMS: stored once, exactly as Twilio posted it, then recorded by a job.

The webhook only stores the event (unique MessageSid, so Twilio's retries are
harmless) and asks for an inbound pass (`process_pending`, coalesced: a burst of
replies becomes a few jobs), which runs `process_event` for each waiting event. The job records the message in the
conversation of the contact with that phone number in that account, creating
the contact when the number is new (a reply from an unknown number must still
reach someone), and then lets each registered reaction act on it in the same
transaction: keyword handling (STOP, HELP) and resolving a wait-for-reply plug
in here with `@reaction`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from builder.domain import contacts
from builder.domain.phones import normalize_phone
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Contact, InboundEvent, Message, MessageStatus, utcnow
from jobqueue import job_names, passes
from jobqueue.effects import carry_out_committed
from jobqueue.queues import enqueue_many

log = logging.getLogger(__name__)
PROCESS = job_names.PROCESS_INBOUND
LIMIT = 5000
PASS_BATCH = 200  # event ids read at a time by a pass
TXN_SIZE = 50  # events recorded per transaction by a pass


@dataclass(frozen=True)
class InboundSms:
    """One inbound SMS, recorded; what a reaction gets to act on."""

    account_id: int
    contact_id: int
    message_id: int
    from_number: str
    to_number: str
    body: str
    received_at: datetime
    new_contact: bool


Reaction = Callable[[InboundSms, AfterCommit], None]
REACTIONS: list[Reaction] = []


def reaction(fn: Reaction) -> Reaction:
    """Register `fn` to run once per inbound SMS, inside the transaction that records it;
    work that must wait for the commit (resumes, timers) goes in the AfterCommit."""
    REACTIONS.append(fn)
    return fn


Finisher = Callable[[AfterCommit], None]
FINISHERS: list[Finisher] = []
_SHARED = "flowdesk.inbound_transaction"  # the session.info key of what reactions share in a transaction


def before_commit(fn: Finisher) -> Finisher:
    """Register `fn` to run once per transaction of inbound SMS, after their reactions and just before the
    commit: what the reactions gathered across the transaction's messages (transaction_state) is saved there."""
    FINISHERS.append(fn)
    return fn


def transaction_state() -> dict[str, Any]:
    """A dict the reactions share across every message recorded in the current transaction, emptied when
    the next one starts: a burst of replies then writes its step logs and counters once, not per reply."""
    return db.session.info.setdefault(_SHARED, {})


def _start_transaction() -> None:
    db.session.info.pop(_SHARED, None)  # whatever a rolled-back transaction gathered is gone with it


def _end_transaction(after: AfterCommit) -> None:
    for finish in FINISHERS:
        finish(after)
    db.session.info.pop(_SHARED, None)


# --- the webhook's half ------------------------------------------------------

def accept(account_id: int, params: dict[str, str]) -> tuple[int, bool]:
    """Store the event once per MessageSid. Returns (event id, still to be processed)."""
    sid = params["MessageSid"]
    try:
        event = InboundEvent(account_id=account_id, provider_sid=sid, payload=params)
        db.session.add(event)
        db.session.flush()
        event_id = event.id  # read before the commit expires it: reading it after would be another transaction
        db.session.commit()
        return event_id, True
    except IntegrityError:  # Twilio posted it again
        db.session.rollback()
    event_id, processed_at = db.session.execute(
        select(InboundEvent.id, InboundEvent.processed_at).where(InboundEvent.provider_sid == sid)
    ).one()
    db.session.commit()
    return event_id, processed_at is None


def enqueue_processing(event_id: int) -> None:
    """After the event is stored; if the enqueue is lost, the reconciler enqueues it again."""
    carry_out_committed(AfterCommit(inbound_events=[event_id]))


def requeue_unprocessed(cutoff: datetime) -> int:
    """For the reconciler: events stored before `cutoff` whose job was lost."""
    ids = list(db.session.scalars(
        select(InboundEvent.id).where(InboundEvent.processed_at.is_(None), InboundEvent.received_at < cutoff)
        .order_by(InboundEvent.id).limit(LIMIT)
    ))
    enqueue_many([(PROCESS, (event_id,)) for event_id in ids])
    return len(ids)


# --- the job's half ----------------------------------------------------------

def _phone(raw: str | None) -> str | None:
    try:
        return normalize_phone(raw or "", current_app.config["DEFAULT_PHONE_REGION"])
    except ValueError:
        return None


def _lock_phone(account_id: int, phone: str) -> None:
    """Two replies from a new number, processed at once, must not create two contacts.
    SQLite already has one writer at a time; PostgreSQL takes a lock for the number."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"inbound:{account_id}:{phone}"))))


def _contact_for(account_id: int, phone: str, after: AfterCommit) -> tuple[Contact, bool]:
    """The contact we last texted at this number, else the oldest with it, else a new one (which,
    like any new contact, fires "contact created" workflows)."""
    _lock_phone(account_id, phone)
    live = (Contact.account_id == account_id, Contact.phone == phone, Contact.deleted_at.is_(None))
    contact_id = db.session.scalar(
        select(Message.contact_id).join(Contact, Contact.id == Message.contact_id)
        .where(*live, Message.direction == "outbound").order_by(Message.id.desc()).limit(1)
    ) or db.session.scalar(select(Contact.id).where(*live).order_by(Contact.id).limit(1))
    if contact_id is not None:
        return db.session.get(Contact, contact_id), False
    return contacts.create_contact(account_id, {"phone": phone}, after), True


def _finish(event_id: int, **values) -> bool:
    """Mark the event processed; False if another job already did."""
    return db.session.execute(
        update(InboundEvent).where(InboundEvent.id == event_id, InboundEvent.processed_at.is_(None))
        .values(processed_at=utcnow(), **values)
    ).rowcount == 1


def _record(event: InboundEvent, phone: str, after: AfterCommit) -> InboundSms:
    payload = event.payload
    contact, created = _contact_for(event.account_id, phone, after)
    # The session's identity map holds objects weakly: kept here, the reactions' session.get of this
    # contact is answered from memory rather than by reading it (and its tags) again.
    transaction_state().setdefault("held", []).append(contact)
    message = Message(
        account_id=event.account_id, contact_id=contact.id, direction="inbound", channel="sms",
        from_number=phone, to_number=(payload.get("To") or "")[:20] or None, body=payload.get("Body", ""),
        status=MessageStatus.RECEIVED, provider="twilio", provider_sid=event.provider_sid,
        idempotency_key=f"inbound:{event.provider_sid}"[:80], sent_at=event.received_at, status_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return InboundSms(account_id=event.account_id, contact_id=contact.id, message_id=message.id,
                      from_number=phone, to_number=message.to_number or "", body=message.body,
                      received_at=event.received_at, new_contact=created)


def process_pending() -> int:
    """The inbound pass: every stored event not yet processed, oldest first, TXN_SIZE per
    transaction (a reply is acted on exactly once, or not at all and again); returns how many."""
    passes.INBOUND_EVENTS.begin()
    cursor, done = 0, 0
    while True:
        ids = list(db.session.scalars(
            select(InboundEvent.id).where(InboundEvent.processed_at.is_(None), InboundEvent.id > cursor)
            .order_by(InboundEvent.id).limit(PASS_BATCH)
        ))
        db.session.commit()  # end the read: on SQLite a transaction holds the write lock
        if not ids:
            return done
        for start in range(0, len(ids), TXN_SIZE):
            _process_together(ids[start:start + TXN_SIZE])
        cursor, done = ids[-1], done + len(ids)


class _TakenElsewhere(Exception):
    """Another job recorded the event while this one was at it."""


def _process_together(event_ids: list[int]) -> None:
    """Record the events in one transaction and carry out what follows once (a burst of replies
    is one commit and one round of live events). If one of them cannot be, take them one by one."""
    after = AfterCommit()
    _start_transaction()
    try:
        for event_id in event_ids:
            _take(event_id, after)
        _end_transaction(after)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if len(event_ids) > 1:
            log.info("inbound events %s..%s could not be recorded together (%s); taking them one by one",
                     event_ids[0], event_ids[-1], type(exc).__name__)
            for event_id in event_ids:
                process_event(event_id)
            return
        if isinstance(exc, (IntegrityError, _TakenElsewhere)):
            return
        raise
    carry_out_committed(after)


def process_event(event_id: int) -> InboundSms | None:
    """Record one stored event in its contact's conversation and run the reactions.
    Safe to run twice, or twice at once: the second does nothing."""
    after = AfterCommit()
    _start_transaction()
    try:
        inbound = _take(event_id, after)
        _end_transaction(after)
        db.session.commit()
    except (IntegrityError, _TakenElsewhere):  # another job recorded this MessageSid first
        db.session.rollback()
        return None
    except BaseException:
        db.session.rollback()
        raise
    carry_out_committed(after)
    return inbound


def _take(event_id: int, after: AfterCommit) -> InboundSms | None:
    """Record the event and run the reactions in the caller's transaction; None if there is
    nothing to record (gone, done, being recorded by another worker, or not from a phone)."""
    # SKIP LOCKED: an event another worker's pass is recording is that pass's (no-op on SQLite).
    event = db.session.scalars(
        select(InboundEvent).where(InboundEvent.id == event_id).with_for_update(skip_locked=True)
    ).one_or_none()
    if event is None or event.processed_at is not None:
        return None
    phone = _phone(event.payload.get("From"))
    if phone is None:
        # Short codes and alphanumeric senders have no contact to file them under.
        _finish(event.id, note="the sender is not a phone number; no contact to record it against")
        log.info("inbound event %s from a sender that is not a phone number was not recorded", event.id)
        return None
    inbound = _record(event, phone, after)
    if not _finish(event.id, message_id=inbound.message_id):
        raise _TakenElsewhere(event.id)
    after.received.append(inbound.message_id)  # announced before any automatic reply
    for react in REACTIONS:
        react(inbound, after)
    return inbound
