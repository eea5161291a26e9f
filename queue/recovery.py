"""The reconciler: the database is the source of truth, RQ jobs only nudge it.

Whatever a lost job should have done (a worker killed mid-job, Redis restarted
and forgot its queues, a timer that never fired), the rows still say it: runs
left active, waits past their time, parked runs whose manual action is done,
bulk batches never marked, messages never sent. Each pass finds those that are
overdue by more than a grace period and enqueues the idempotent job again.
Running it twice, or beside the original job, does no harm.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, select, update

from builder import database
from builder.extensions import db
from builder.live import conversation_events
from builder.models import (
    BulkEnrollment,
    BulkEnrollmentBatch,
    ContactImport,
    ContactImportStatus,
    Enrollment,
    ManualAction,
    ManualActionStatus,
    Message,
    MessageStatus,
    utcnow,
)
from engine.statuses import RunStatus
from jobqueue import calls, email_outbox, inbound, job_names, notification_sms, outbound_http
from jobqueue.connection import get_redis
from jobqueue.enroll import ADVANCE, batch_due_at, schedule_batches
from jobqueue.queues import enqueue, enqueue_many

log = logging.getLogger(__name__)
RESUME = job_names.RESUME_ENROLLMENT
DELIVER = job_names.DELIVER_MESSAGES
LOCK = "flowdesk:reconcile:lock"
STATS_LOCK = "flowdesk:statistics:lock"
LIMIT = 5000  # per kind per pass; the next pass takes the rest


def reconcile() -> dict[str, int]:
    """One pass; returns how many of each kind it re-enqueued (for logs and tests)."""
    grace = timedelta(seconds=current_app.config.get("RECOVERY_GRACE_SECONDS", 60))
    cutoff = utcnow() - grace
    counts = {
        "stale_active": _stale_active(cutoff),
        "overdue_waits": _overdue_waits(cutoff),
        "finished_manual_actions": _parked_with_done_action(),
        "missing_batches": _missing_batches(cutoff),
        "unsent_messages": _unsent_messages(cutoff),
        "inbound_events": inbound.requeue_unprocessed(cutoff),
        "contact_imports": _stalled_imports(cutoff),
        **calls.recover(cutoff),  # Call steps: lost placements and checks, cut-short placements, resumes
        **outbound_http.recover(cutoff),  # Webhook and Slack requests: lost sends, cut-short attempts
        **email_outbox.recover(cutoff),  # Send Email: lost sends, cut-short sends (marked unknown)
    }
    interrupted = _interrupted_sends(cutoff)
    counts["interrupted_sends"] = len(interrupted)
    texts, stuck_texts = notification_sms.recover(cutoff, LIMIT)
    counts["notification_texts"], counts["interrupted_notification_texts"] = len(texts), len(stuck_texts)
    db.session.commit()
    if interrupted:
        conversation_events.publish(interrupted, "updated")  # open threads show "Unknown" without a reload
    if texts:
        enqueue(job_names.DELIVER_NOTIFICATION_TEXTS, texts)
    found = {k: v for k, v in counts.items() if v}
    if found:
        log.warning("reconciler re-enqueued lost work: %s", found)
    return counts


def refresh_statistics_once_per(seconds: int) -> bool:
    """Planner statistics (SQLite), refreshed by one worker at a time."""
    if not get_redis().set(STATS_LOCK, "1", nx=True, ex=max(1, seconds)):
        return False
    database.refresh_statistics(db.engine)
    return True


def reconcile_once_per(seconds: int) -> dict[str, int] | None:
    """Run a pass unless another worker ran one in the last `seconds`."""
    if not get_redis().set(LOCK, "1", nx=True, ex=max(1, seconds)):
        return None
    return reconcile()


def _stale_active(cutoff) -> int:
    ids = list(db.session.scalars(
        select(Enrollment.id).where(Enrollment.status == RunStatus.ACTIVE, Enrollment.updated_at < cutoff)
        .order_by(Enrollment.id).limit(LIMIT)
    ))
    size = current_app.config["ENGINE_TXN_SIZE"]
    enqueue_many([(ADVANCE, (ids[i:i + size],)) for i in range(0, len(ids), size)])
    return len(ids)


def _overdue_waits(cutoff) -> int:
    rows = db.session.execute(
        select(Enrollment.id, Enrollment.seq).where(Enrollment.status == RunStatus.WAITING, Enrollment.wake_at < cutoff)
        .limit(LIMIT)
    ).all()
    enqueue_many([(RESUME, (eid, seq, "timer")) for eid, seq in rows])
    return len(rows)


def _parked_with_done_action() -> int:
    """A completed or deleted action whose resume job was lost."""
    rows = db.session.execute(
        select(Enrollment.id, Enrollment.seq, ManualAction.status).join(
            ManualAction,
            and_(ManualAction.enrollment_id == Enrollment.id, ManualAction.step_id == Enrollment.current_step,
                 ManualAction.parks_enrollment.is_(True)),
        ).where(Enrollment.status == RunStatus.PARKED, ManualAction.status != ManualActionStatus.QUEUED).limit(LIMIT)
    ).all()
    enqueue_many([(RESUME, (eid, seq, status)) for eid, seq, status in rows])
    return len(rows)


def _missing_batches(cutoff) -> int:
    count = 0
    for bulk in db.session.scalars(select(BulkEnrollment).where(BulkEnrollment.finished_at.is_(None))):
        done = set(db.session.scalars(
            select(BulkEnrollmentBatch.index).where(BulkEnrollmentBatch.bulk_id == bulk.id)
        ))
        lost = [i for i in range(bulk.batch_count) if i not in done and batch_due_at(bulk, i) < cutoff]
        count += schedule_batches(bulk, lost)  # a batch whose job still waits in the queue is left alone
    return count


def _unsent_messages(cutoff) -> int:
    ids = list(db.session.scalars(
        select(Message.id).where(
            Message.direction == "outbound", Message.status == MessageStatus.QUEUED, Message.created_at < cutoff,
            (Message.send_at.is_(None)) | (Message.send_at < cutoff),
        ).limit(LIMIT)
    ))
    if ids:
        enqueue(DELIVER, ids)
    return len(ids)


def _stalled_imports(cutoff) -> int:
    """Imports queued or running that no chunk has moved for the grace period: their job was lost (or its
    worker killed). The job resumes from the last committed chunk; one still running keeps its rows (its
    chunks claim them), so a second job on it stops at once."""
    ids = list(db.session.scalars(select(ContactImport.id).where(
        ContactImport.status.in_([ContactImportStatus.QUEUED, ContactImportStatus.RUNNING]),
        ContactImport.updated_at < cutoff).limit(LIMIT)))
    enqueue_many([(job_names.CONTACT_IMPORT, (import_id,)) for import_id in ids])
    return len(ids)


def _interrupted_sends(cutoff) -> list[int]:
    """Claimed for sending but never confirmed: the provider may or may not have it.
    Sending again could double it, so say so in the log and on the message instead."""
    # status_at is when the send was claimed: a retry long after the message was made is not stuck.
    claimed_at = func.coalesce(Message.status_at, Message.created_at)
    stuck = select(Message.id).where(Message.status == MessageStatus.SENDING, claimed_at < cutoff).limit(LIMIT)
    ids = list(db.session.scalars(stuck))
    if ids:
        db.session.execute(update(Message).where(Message.id.in_(ids), Message.status == MessageStatus.SENDING).values(
            status=MessageStatus.UNKNOWN, error="the send was interrupted; check the provider before sending again",
        ))
        log.error("messages %s were interrupted mid-send and are marked unknown, not re-sent", ids)
    return ids


__all__ = ["reconcile", "reconcile_once_per"]
