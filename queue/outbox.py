"""Send queued outbound messages, each at most once.

A message moves queued -> sending -> sent | failed. The queued -> sending step is
a conditional UPDATE committed before the provider is called, so two workers can
never both send it. A send cut short (process killed after the claim) is left in
"sending"; the reconciler marks it "unknown" and logs it instead of sending again.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from builder.extensions import db
from builder.models import Message, utcnow
from builder.providers import ProviderError, get_provider

log = logging.getLogger(__name__)


def _claim(message_id: int) -> Message | None:
    claimed = db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == "queued").values(status="sending")
    ).rowcount
    db.session.commit()
    return db.session.get(Message, message_id) if claimed else None


def deliver(message_ids: list[int]) -> None:
    provider = None
    for message_id in message_ids:
        message = _claim(message_id)
        if message is None:
            continue  # sent, or being sent, by someone else
        try:
            provider = provider or get_provider()
            sent = provider.send_sms(message.to_number or "", message.body, key=message.idempotency_key or "")
        except ProviderError as exc:
            message.status, message.error = "failed", f"{exc.code or 'error'}: {exc}"
            log.warning("message %s to contact %s failed: %s", message.id, message.contact_id, message.error)
        else:
            message.status, message.provider, message.provider_sid = sent.status, provider.name, sent.sid
            message.sent_at = utcnow()
        db.session.commit()
