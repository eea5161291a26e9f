"""Text the copy of an in-app notification to its user's own phone, at most once.

The same guarantee as the outbox (jobqueue.outbox): the row moves queued -> sending in a
conditional UPDATE committed before the provider is called, so two processes can never
both send it. The provider's answer then makes it sent, failed (refused, or "not now":
an internal copy is not worth a retry schedule) or unknown (no answer: it may have gone,
so it is never sent again). Every failure is logged with the notification and the user.

The texts go through the account's provider (Twilio, or the console without one). They are
not conversation messages: Twilio's delivery reports only follow the conversation log, so
these record what the provider said when sending (no status callback is attached to them).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.sql.elements import ColumnElement

from builder.extensions import db
from builder.integrations.providers import ProviderError, SmsProvider, get_provider
from builder.models import Notification, NotificationSms, utcnow
from engine.actions.fields import SMS_MAX

log = logging.getLogger(__name__)

# The providers' `message_id` names a conversation message for delivery reports; none matches this one.
NOT_A_MESSAGE = 0


def text_of(title: str, body: str) -> str:
    """What the user's phone shows: the title, then the message, within one SMS request."""
    return (f"{title}\n{body}" if body else title)[:SMS_MAX]


def _claim(notification_id: int) -> Any | None:
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.sms_status == NotificationSms.QUEUED)
        .values(sms_status=NotificationSms.SENDING)
    ).rowcount
    row = None
    if claimed:
        row = db.session.execute(
            select(Notification.id, Notification.account_id, Notification.user_id, Notification.sms_to,
                   Notification.title, Notification.body).where(Notification.id == notification_id)).one()
    db.session.commit()
    return row


def _record(notification_id: int, **values: Any) -> None:
    db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.sms_status == NotificationSms.SENDING).values(**values))
    db.session.commit()


def _send(row: Any, providers: dict[int, SmsProvider]) -> None:
    try:
        provider = providers.get(row.account_id) or get_provider(row.account_id)
        providers[row.account_id] = provider
        provider.send_sms(row.sms_to or "", text_of(row.title, row.body), key=f"notification:{row.id}",
                          message_id=NOT_A_MESSAGE)
    except ProviderError as exc:
        status = NotificationSms.UNKNOWN if exc.uncertain else NotificationSms.FAILED
        log.warning("notification %s: the text to user %s's phone %s (%s): %s",
                    row.id, row.user_id, "may not have gone" if exc.uncertain else "failed", exc.code or "error", exc)
        _record(row.id, sms_status=status, sms_error=str(exc)[:2000])
    else:
        _record(row.id, sms_status=NotificationSms.SENT, sms_sent_at=utcnow(), sms_error=None)


def deliver(notification_ids: list[int]) -> None:
    """Send the queued copies among these notifications; others (sent, being sent, none asked) are left."""
    providers: dict[int, SmsProvider] = {}  # one per account for this batch
    for notification_id in notification_ids:
        # Runs among a commit's follow-ups: whatever goes wrong here is logged, never raised into the others.
        try:
            row = _claim(notification_id)
            if row is not None:
                _send(row, providers)
        except Exception:
            db.session.rollback()
            log.exception("notification %s: could not text the copy to the user's phone", notification_id)


def recover(cutoff: Any, limit: int = 5000) -> tuple[list[int], list[int]]:
    """For the reconciler: (copies still queued since before `cutoff`, whose send after the commit was
    lost: to send now; copies left `sending` since before it: marked unknown and logged, never sent again,
    as the provider may have them). A copy is claimed straight after its commit, so its age is the claim's."""
    old: ColumnElement[bool] = Notification.created_at < cutoff
    queued = list(db.session.scalars(select(Notification.id).where(
        Notification.sms_status == NotificationSms.QUEUED, old).order_by(Notification.id).limit(limit)))
    stuck = list(db.session.scalars(select(Notification.id).where(
        Notification.sms_status == NotificationSms.SENDING, old).order_by(Notification.id).limit(limit)))
    if stuck:
        db.session.execute(update(Notification).where(
            Notification.id.in_(stuck), Notification.sms_status == NotificationSms.SENDING).values(
            sms_status=NotificationSms.UNKNOWN, sms_error="the send was interrupted; it is not sent again"))
        log.error("notifications %s: the texts to users' phones were interrupted mid-send and are marked unknown, "
                  "not re-sent", stuck)
    return queued, stuck
