"""The copy of a notification texted to a user's phone survives a lost send: the reconciler sends one still
queued, and marks one cut short mid-send unknown instead of sending it again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from builder.extensions import db
from builder.models import Notification, NotificationSms, utcnow
from jobqueue import recovery
from tests.factories import run_jobs
from tests.fake_twilio import connect_account


def notification(account, user, status: str, *, age_minutes: int = 10) -> int:
    row = Notification(account_id=account.id, user_id=user.id, title="New lead", body="Call them",
                       sms_to="+14155550111", sms_status=status, idempotency_key=f"{status}:{age_minutes}",
                       created_at=utcnow() - timedelta(minutes=age_minutes))
    db.session.add(row)
    db.session.commit()
    return row.id


def status_of(notification_id: int) -> tuple[str, str | None]:
    row = db.session.execute(select(Notification.sms_status, Notification.sms_error)
                             .where(Notification.id == notification_id)).one()
    db.session.rollback()
    return row.sms_status, row.sms_error


def test_a_copy_whose_send_was_lost_is_sent_by_the_reconciler_once(app, account, users, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    lost = notification(account, users["agent"], NotificationSms.QUEUED)
    recent = notification(account, users["agent"], NotificationSms.QUEUED, age_minutes=0)  # its send may be under way
    assert recovery.reconcile()["notification_texts"] == 1
    run_jobs(app)
    assert status_of(lost)[0] == NotificationSms.SENT and status_of(recent)[0] == NotificationSms.QUEUED
    [sent] = fake_twilio.created()
    assert (sent.value("To"), sent.value("Body")) == ("+14155550111", "New lead\nCall them")
    assert recovery.reconcile()["notification_texts"] == 0  # sent: nothing left to do
    run_jobs(app)
    assert len(fake_twilio.created()) == 1


def test_a_copy_cut_short_mid_send_is_marked_unknown_and_never_sent_again(app, account, users, fake_twilio, caplog):
    connect_account(app, fake_twilio, account.id)
    stuck = notification(account, users["agent"], NotificationSms.SENDING)
    counts = recovery.reconcile()
    assert (counts["interrupted_notification_texts"], counts["notification_texts"]) == (1, 0)
    status, error = status_of(stuck)
    assert status == NotificationSms.UNKNOWN and "interrupted" in error
    assert "marked unknown" in caplog.text
    run_jobs(app)
    assert fake_twilio.created() == []
