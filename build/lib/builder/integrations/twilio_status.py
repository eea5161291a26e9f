"""What Twilio's status callbacks report, recorded on the message or call they are about.

Callbacks arrive late, twice, or out of order, so each is one conditional UPDATE
that only ever moves a row forward: a "sent" arriving after "delivered" changes
nothing, and the same status twice changes nothing the second time.

A callback URL carries our row id as well as Twilio's SID: a callback that
overtakes the worker recording the SID (or follows a send cut short after Twilio
took it) still finds its row.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update

from builder.extensions import db
from builder.models import Call, Message, utcnow

# Twilio's message statuses, as we record them. "queued" and "sending" are Twilio's
# own queue: for us the message is "accepted" (ours "queued"/"sending" mean not yet
# handed over, and the outbox would act on them).
MESSAGE_STATUS = {
    "accepted": "accepted", "scheduled": "accepted", "queued": "accepted", "sending": "accepted",
    "sent": "sent", "delivered": "delivered", "undelivered": "undelivered", "failed": "failed",
    "canceled": "canceled", "read": "read",
}
MESSAGE_PROGRESS = {
    "sending": 0, "unknown": 0, "accepted": 1, "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "canceled": 3, "read": 4,
}
CALL_PROGRESS = {
    "initiating": 0, "unknown": 0, "queued": 1, "initiated": 1, "ringing": 2, "in-progress": 3,
    "completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4,
}
FINAL_CALL = frozenset(s for s, rank in CALL_PROGRESS.items() if rank == 4)


def _before(progress: dict[str, int], status: str) -> list[str]:
    return [name for name, rank in progress.items() if rank < progress[status]]


def record_message_status(account_ids: list[int], *, sid: str, twilio_status: str, error_code: str | None,
                          message_id: int | None) -> list[int]:
    """The message that moved forward ([] for a duplicate, a late status or an unknown message); committed."""
    status = MESSAGE_STATUS.get(twilio_status)
    if status is None or not sid:
        return []
    target = Message.provider_sid == sid
    if message_id is not None:
        target = or_(target, and_(Message.id == message_id, Message.provider_sid.is_(None)))
    values: dict = {"status": status, "status_at": utcnow(), "provider_sid": sid}
    if error_code:
        values.update(error_code=error_code[:20], error=f"Twilio error {error_code[:20]}")
    result = db.session.execute(
        update(Message).where(target, Message.account_id.in_(account_ids), Message.direction == "outbound",
                              Message.status.in_(_before(MESSAGE_PROGRESS, status))).values(**values)
    )
    moved = []
    if result.rowcount > 0:  # the SID is on the row now, whichever way the callback found it
        moved = list(db.session.scalars(select(Message.id).where(Message.provider_sid == sid)))
    db.session.commit()
    return moved


def record_call_status(account_ids: list[int], *, sid: str, twilio_status: str, duration: int | None,
                       call_id: int | None) -> bool:
    """True if the call moved forward; the final status brings its duration and end time."""
    if twilio_status not in CALL_PROGRESS or not sid:
        return False
    target = Call.provider_sid == sid
    if call_id is not None:
        target = or_(target, and_(Call.id == call_id, Call.provider_sid.is_(None)))
    now = utcnow()
    values: dict = {"status": twilio_status, "status_at": now, "provider_sid": sid}
    if twilio_status in FINAL_CALL:
        values.update(ended_at=now, duration_seconds=duration)
    result = db.session.execute(
        update(Call).where(target, Call.account_id.in_(account_ids),
                           Call.status.in_(_before(CALL_PROGRESS, twilio_status))).values(**values)
    )
    db.session.commit()
    return result.rowcount > 0
