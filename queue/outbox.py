"""Send queued outbound messages, each at most once.

A message moves queued -> sending -> accepted (Twilio) / sent (console) | failed.
The queued -> sending step is a conditional UPDATE committed before the provider
is called, so two workers can never both send it, and no transaction (on SQLite:
the write lock) stays open while the provider is on the line. A send cut short
(process killed after the claim) stays "sending"; the reconciler marks it
"unknown" and logs it instead of sending it again.

When the provider says "not now" (Twilio 429 or 5xx, or no connection at all)
nothing was sent: the message goes back to "queued" with a retry time, after the
delays in TWILIO_RETRY_DELAYS, and fails once they run out. A refusal (any other
4xx) fails it at once with the provider's error code. A reply that never came
may hide a send that went through, so that message is marked "unknown".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from redis import RedisError
from sqlalchemy import or_, select, update

from builder.extensions import db
from builder.integrations.providers import ProviderError, Sent, SmsProvider, get_provider
from builder.live import conversation_events
from builder.models import Contact, Message, MessageStatus, utcnow
from engine.actions.failures import may_retry, retry_delay
from jobqueue import job_names
from jobqueue.queues import enqueue, enqueue_at

log = logging.getLogger(__name__)
DELIVER = job_names.DELIVER_MESSAGES


def _claim(message_id: int) -> Any | None:
    # A scheduled message is not sent before its time, nor a retry before its turn, whoever asks.
    now = utcnow()
    due = (or_(Message.send_at.is_(None), Message.send_at <= now),
           or_(Message.retry_at.is_(None), Message.retry_at <= now))
    claimed = db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == MessageStatus.QUEUED, *due)
        .values(status=MessageStatus.SENDING, status_at=now, attempts=Message.attempts + 1)
    ).rowcount
    row = None
    if claimed:
        row = db.session.execute(
            select(Message.id, Message.account_id, Message.to_number, Message.body, Message.idempotency_key,
                   Message.contact_id, Message.attempts, Message.max_attempts, Message.retry_backoff_seconds)
            .where(Message.id == message_id)
        ).one()
    db.session.commit()
    return row


def _update(message_id: int, *where: Any, **values: Any) -> None:
    db.session.execute(update(Message).where(Message.id == message_id, *where).values(**values))


def _record_sent(row: Any, provider: SmsProvider, sent: Sent) -> None:
    # A status callback may have overtaken us (it finds the row by id): keep the later status.
    _update(row.id, provider=provider.name, provider_sid=sent.sid, from_number=sent.from_number, sent_at=utcnow())
    _update(row.id, Message.status.in_([MessageStatus.SENDING, MessageStatus.UNKNOWN]), status=sent.status,
            status_at=utcnow(), error=None, error_code=None, retry_at=None)
    db.session.commit()


def _record_failure(row: Any, exc: ProviderError, status: str) -> None:
    log.warning("message %s to contact %s %s: %s", row.id, row.contact_id, status, exc)
    _update(row.id, Message.status == MessageStatus.SENDING, status=status, status_at=utcnow(), error=str(exc),
            error_code=(exc.code or "error")[:20], retry_at=None)
    db.session.commit()


def _retry_later(row: Any, exc: ProviderError, delay: int) -> None:
    when = utcnow() + timedelta(seconds=delay)
    log.warning("message %s to contact %s: attempt %s refused for now (%s); retrying in %ss",
                row.id, row.contact_id, row.attempts, exc, delay)
    _update(row.id, Message.status == MessageStatus.SENDING, status=MessageStatus.QUEUED, status_at=utcnow(),
            retry_at=when, error=str(exc), error_code=(exc.code or "error")[:20])
    db.session.commit()
    try:
        if delay > 0:
            enqueue_at(when, DELIVER, [row.id])
        else:
            enqueue(DELIVER, [row.id])
    except RedisError:  # the reconciler re-enqueues queued messages that are overdue
        log.exception("could not schedule the retry of message %s; the reconciler will", row.id)


def _send(row: Any, providers: dict[int, SmsProvider]) -> None:
    try:
        provider = providers.get(row.account_id) or get_provider(row.account_id)
        providers[row.account_id] = provider
        sent = provider.send_sms(row.to_number or "", row.body, key=row.idempotency_key or "", message_id=row.id)
    except ProviderError as exc:
        # The Send SMS step's retry policy, if it has one; else one retry per TWILIO_RETRY_DELAYS.
        delays = current_app.config.get("TWILIO_RETRY_DELAYS", [])
        if exc.retryable and may_retry(row.attempts, row.max_attempts, delays):
            _retry_later(row, exc, retry_delay(row.attempts, row.retry_backoff_seconds, delays))
        else:
            _record_failure(row, exc, "unknown" if exc.uncertain else "failed")
    else:
        _record_sent(row, provider, sent)


def _opted_out(row: Any) -> bool:
    """A contact who texted STOP after this was queued (a scheduled SMS, say) gets nothing more.
    The answer to HELP is the exception carriers expect."""
    if (row.idempotency_key or "").startswith("help:"):
        return False
    if not db.session.scalar(select(Contact.dnd_sms).where(Contact.id == row.contact_id)):
        db.session.commit()  # end the read
        return False
    log.info("message %s to contact %s refused: SMS do-not-disturb is on", row.id, row.contact_id)
    _update(row.id, Message.status == MessageStatus.SENDING, status=MessageStatus.FAILED, status_at=utcnow(),
            error_code="dnd", error="not sent: the contact has SMS do-not-disturb on (they opted out)")
    db.session.commit()
    return True


def deliver(message_ids: list[int]) -> None:
    providers: dict[int, SmsProvider] = {}  # one per account for this batch
    for message_id in message_ids:
        row = _claim(message_id)
        if row is None:  # sent, being sent, or not due yet
            continue
        if not _opted_out(row):
            _send(row, providers)
        # One event per attempt, with its outcome: sent (accepted), failed, refused, or queued for a retry.
        conversation_events.publish([row.id], "updated")
