"""Send the emails Send Email steps queued, each at most once.

An email moves queued -> sending -> sent | failed. The queued -> sending step is a conditional UPDATE
committed before the SMTP server is called, so two workers never both send it and no transaction stays
open while the server is on the line. A send cut short (a worker killed after the claim, or the line
dropping during the DATA) is marked "unknown", never sent again: the server may have taken it.

Email do-not-disturb is read at send time, so an email queued before the contact unsubscribed is not
sent (failed, code "dnd"). A temporary refusal (4xx) or no connection puts the email back in the queue
after the delays in EMAIL_RETRY_DELAYS, and it fails when they run out; a permanent refusal (5xx) fails it
at once with the server's reply.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from redis import RedisError
from sqlalchemy import func, or_, select, update

from builder.extensions import db
from builder.integrations import unsubscribe
from builder.integrations.email_provider import EmailError, EmailProvider, OutgoingEmail, get_provider
from builder.models import Contact, Email, MessageStatus, utcnow
from engine.actions.failures import may_retry, retry_delay
from jobqueue import job_names
from jobqueue.queues import enqueue, enqueue_at

log = logging.getLogger(__name__)
SEND = job_names.SEND_EMAILS
QUEUED, SENDING, SENT = MessageStatus.QUEUED.value, MessageStatus.SENDING.value, MessageStatus.SENT.value
FAILED, UNKNOWN = MessageStatus.FAILED.value, MessageStatus.UNKNOWN.value
LIMIT = 1000  # rows per kind per reconciler pass


def deliver(email_ids: list[int]) -> None:
    providers: dict[int, EmailProvider] = {}  # one per account for this batch
    for email_id in email_ids:
        row = _claim(email_id)
        if row is None:  # sent, being sent, or not due yet
            continue
        if row.user_id is None and (row.dnd_email or row.deleted_at is not None):  # the contact's own emails
            why = "email do-not-disturb is on (they unsubscribed)" if row.dnd_email else "the contact was deleted"
            log.info("email %s to contact %s not sent: %s", row.id, row.contact_id, why)
            _finish(row.id, FAILED, error=f"not sent: {why}", error_code="dnd" if row.dnd_email else "deleted")
            continue
        _send(row, providers)


def _claim(email_id: int) -> Any | None:
    now = utcnow()
    claimed = db.session.execute(
        update(Email).where(Email.id == email_id, Email.status == QUEUED,
                            or_(Email.retry_at.is_(None), Email.retry_at <= now))
        .values(status=SENDING, status_at=now, attempts=Email.attempts + 1)
    ).rowcount
    row = None
    if claimed:
        row = db.session.execute(
            select(Email.id, Email.account_id, Email.contact_id, Email.user_id, Email.to_address, Email.subject,
                   Email.text_body, Email.html_body, Email.idempotency_key, Email.attempts, Email.max_attempts,
                   Email.retry_backoff_seconds, Contact.dnd_email,
                   Contact.deleted_at)
            .join(Contact, Contact.id == Email.contact_id).where(Email.id == email_id)
        ).one()
    db.session.commit()
    return row


def _finish(email_id: int, status: str, **values: Any) -> None:
    db.session.execute(update(Email).where(Email.id == email_id, Email.status == SENDING)
                       .values(status=status, status_at=utcnow(), retry_at=None, **values))
    db.session.commit()


def _unsubscribe_url(row: Any, provider: EmailProvider) -> str | None:
    """The contact's unsubscribe link; None for a notification's copy to a team member (nothing to leave)."""
    if row.user_id is not None:
        return None
    base = unsubscribe.public_base()
    if base is None:
        if provider.name != "console":
            raise EmailError("PUBLIC_URL is not set, so the email's unsubscribe link would not work; "
                             "set PUBLIC_URL to the address people reach flowdesk at", code="not_configured")
        base = unsubscribe.LOCAL_URL
    return unsubscribe.url_for_contact(row.contact_id, base)


def _outgoing(row: Any, provider: EmailProvider) -> OutgoingEmail:
    sender = provider.settings.from_address if provider.settings else "flowdesk@localhost"
    domain = sender.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
    return OutgoingEmail(id=row.id, to=row.to_address, subject=row.subject, text=row.text_body,
                         html=row.html_body, unsubscribe_url=_unsubscribe_url(row, provider),
                         message_id=f"<flowdesk.{row.id}.{digest}@{domain}>")


def _send(row: Any, providers: dict[int, EmailProvider]) -> None:
    try:
        provider = providers.get(row.account_id) or get_provider(row.account_id)
        providers[row.account_id] = provider
        outgoing = _outgoing(row, provider)
        provider.send(outgoing)
    except EmailError as exc:
        # The Send Email step's retry policy, if it has one; else one retry per EMAIL_RETRY_DELAYS.
        delays = current_app.config.get("EMAIL_RETRY_DELAYS", [])
        if exc.retryable and may_retry(row.attempts, row.max_attempts, delays):
            _retry_later(row, exc, retry_delay(row.attempts, row.retry_backoff_seconds, delays))
        else:
            status = UNKNOWN if exc.uncertain else FAILED
            log.warning("email %s to contact %s %s: %s", row.id, row.contact_id, status, exc)
            _finish(row.id, status, error=str(exc), error_code=(exc.code or "error")[:20])
    else:
        _finish(row.id, SENT, provider=provider.name, sent_at=utcnow(), message_id_header=outgoing.message_id,
                error=None, error_code=None)


def _retry_later(row: Any, exc: EmailError, delay: int) -> None:
    when = utcnow() + timedelta(seconds=delay)
    log.warning("email %s to contact %s: attempt %s refused for now (%s); retrying in %ss",
                row.id, row.contact_id, row.attempts, exc, delay)
    db.session.execute(update(Email).where(Email.id == row.id, Email.status == SENDING).values(
        status=QUEUED, status_at=utcnow(), retry_at=when, error=str(exc), error_code=(exc.code or "error")[:20]))
    db.session.commit()
    try:
        if delay > 0:
            enqueue_at(when, SEND, [row.id])
        else:
            enqueue(SEND, [row.id])
    except RedisError:  # the reconciler re-enqueues queued emails that are overdue
        log.exception("could not schedule the retry of email %s; the reconciler will", row.id)


def recover(cutoff: datetime) -> dict[str, int]:
    """The reconciler's part: queued emails whose job was lost are enqueued again; emails claimed but
    never finished (the worker died mid-send) are marked unknown, not sent again."""
    lost = list(db.session.scalars(select(Email.id).where(
        Email.status == QUEUED, func.coalesce(Email.retry_at, Email.created_at) < cutoff).limit(LIMIT)))
    claimed_at = func.coalesce(Email.status_at, Email.created_at)
    stuck = list(db.session.scalars(select(Email.id).where(Email.status == SENDING, claimed_at < cutoff)
                                    .limit(LIMIT)))
    if stuck:
        db.session.execute(update(Email).where(Email.id.in_(stuck), Email.status == SENDING).values(
            status=UNKNOWN, status_at=utcnow(), error_code="cut_short",
            error="the send was interrupted; the SMTP server may or may not have it, so it is not sent again"))
        log.error("emails %s were interrupted mid-send and are marked unknown, not re-sent", stuck)
    db.session.commit()
    if lost:
        enqueue(SEND, lost)
    return {"unsent_emails": len(lost), "interrupted_emails": len(stuck)}
