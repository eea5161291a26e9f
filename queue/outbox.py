"""Send queued outbound messages, each at most once.

A message moves queued -> sending -> sent | failed. The queued -> sending step is
a conditional UPDATE committed before the provider is called, so two workers can
never both send it, and no transaction (on SQLite: the write lock) stays open
while the provider is on the line. A send cut short (process killed after the
claim) stays "sending"; the reconciler marks it "unknown" and logs it instead of
sending it again.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select, update

from builder.extensions import db
from builder.models import Message, utcnow
from builder.providers import ProviderError, SmsProvider, get_provider

log = logging.getLogger(__name__)


def _claim(message_id: int) -> Any | None:
    # A scheduled message is not sent before its time, whoever asks.
    due = or_(Message.send_at.is_(None), Message.send_at <= utcnow())
    claimed = db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == "queued", due).values(status="sending")
    ).rowcount
    row = None
    if claimed:
        row = db.session.execute(
            select(Message.to_number, Message.body, Message.idempotency_key, Message.contact_id)
            .where(Message.id == message_id)
        ).one()
    db.session.commit()
    return row


def _record(message_id: int, **values: Any) -> None:
    db.session.execute(update(Message).where(Message.id == message_id).values(**values))
    db.session.commit()


def deliver(message_ids: list[int]) -> None:
    provider: SmsProvider | None = None
    for message_id in message_ids:
        row = _claim(message_id)
        if row is None:
            continue  # sent, or being sent, by someone else
        try:
            provider = provider or get_provider()
            sent = provider.send_sms(row.to_number or "", row.body, key=row.idempotency_key or "")
        except ProviderError as exc:
            error = f"{exc.code or 'error'}: {exc}"
            log.warning("message %s to contact %s failed: %s", message_id, row.contact_id, error)
            _record(message_id, status="failed", error=error)
        else:
            _record(message_id, status=sent.status, provider=provider.name, provider_sid=sent.sid, sent_at=utcnow())
