"""Send Internal Notification, driven through the real engine, SqlStore, database and RQ: who is notified,
why a step notifies nobody, merge fields, each step run notifying once, and the copy texted to users' phones."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from builder.domain.errors import Invalid
from builder.domain.store import SqlStore
from builder.domain.workflows import create_workflow
from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Notification, NotificationSms, utcnow
from jobqueue import notification_sms, runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_outsider, make_workflow, run_jobs
from tests.fake_twilio import connect_account


def flow(config, then=None):
    steps = {"n": {"type": "internal_notification", "config": config, "next": "t" if then else None}}
    if then:
        steps["t"] = {"type": "add_tag", "config": {"tag": then}, "next": None}
    return {"name": "Notify", "start": "n", "steps": steps}


def enroll(app, wf, contacts):
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)


def notifications() -> list[Notification]:
    return list(db.session.scalars(select(Notification).order_by(Notification.user_id, Notification.id)))


def step_log(step_id: str = "n") -> ExecutionLog:
    return db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == step_id)).one()


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


TITLE = {"title": "New lead: {{ contact.first_name }}", "body": "Call {{ contact.name }} on {{ contact.phone }}"}


# --- recipients -------------------------------------------------------------------------

def test_the_assigned_user_is_notified_with_merge_fields_rendered(app, account, users):
    wf = make_workflow(account, flow({"recipients": "assigned_user", **TITLE}))
    c = make_contact(account, first_name="Ada", last_name="Lovelace", assigned_user_id=users["agent"].id)
    enroll(app, wf, [c])
    [note] = notifications()
    run = db.session.scalars(select(Enrollment)).one()
    assert (note.user_id, note.account_id, note.title) == (users["agent"].id, account.id, "New lead: Ada")
    assert note.body == "Call Ada Lovelace on +14155551000"
    assert (note.contact_id, note.workflow_id, note.enrollment_id) == (c.id, wf.id, run.id)
    assert note.read_at is None and note.sms_status is None
    row = step_log()
    assert note.idempotency_key == row.idempotency_key
    assert row.outcome == "ok" and row.output["user_ids"] == [users["agent"].id]
    assert row.output["notification_ids"] == [note.id] and run.status == "completed"


def test_chosen_users_who_are_active_members_of_the_account_are_notified(app, account, users):
    outsider = make_outsider("admin")
    users["agent2"].active = False
    db.session.commit()
    chosen = [users["manager"].id, users["agent2"].id, outsider.id, users["agent"].id]
    saved = [uid for uid in chosen if uid != outsider.id]  # saving refuses another account's users
    wf = make_workflow(account, flow({"recipients": "users", "user_ids": saved, "title": "Heads up"}))
    # A version saved before that check: the step still notifies only members of the account.
    version = wf.published_version
    version.graph = {**version.graph, "steps": {"n": {**version.graph["steps"]["n"], "config": {
        **version.graph["steps"]["n"]["config"], "user_ids": chosen}}}}
    db.session.commit()
    enroll(app, wf, [make_contact(account)])
    assert [n.user_id for n in notifications()] == sorted([users["manager"].id, users["agent"].id])
    assert step_log().output["user_ids"] == [users["manager"].id, users["agent"].id]  # in the chosen order


def test_everyone_with_a_role_is_notified(app, account, users):
    users["agent2"].active = False
    make_outsider("agent", email="agent@other.test")  # another account's agent hears nothing
    db.session.commit()
    wf = make_workflow(account, flow({"recipients": "role", "role": "agent", "title": "Agents, look"}))
    enroll(app, wf, [make_contact(account)])
    assert [n.user_id for n in notifications()] == [users["agent"].id]


def test_each_contact_gives_its_own_notification(app, account, users):
    wf = make_workflow(account, flow({"recipients": "role", "role": "manager", **TITLE}))
    enroll(app, wf, [make_contact(account, first_name="Ada"), make_contact(account, first_name="Bo")])
    assert sorted(n.title for n in notifications()) == ["New lead: Ada", "New lead: Bo"]


# --- nobody to notify: skipped with the reason, the run goes on ---------------------------------

@pytest.mark.parametrize(("config", "setup", "reason"), [
    ({"recipients": "assigned_user"}, None, "contact has no assigned user"),
    ({"recipients": "assigned_user"}, "deactivate_owner", "the contact's assigned user is deactivated"),
    ({"recipients": "users", "user_ids": ["agent2"]}, "deactivate_owner", "none of the chosen users is active"),
    ({"recipients": "role", "role": "admin"}, "deactivate_admin", "no active user has the admin role"),
])
def test_a_step_with_nobody_to_notify_is_skipped_with_the_reason(app, account, users, config, setup, reason):
    owner = users["agent2"]
    assigned = owner.id if setup == "deactivate_owner" else None
    if setup == "deactivate_owner":
        owner.active = False
    if setup == "deactivate_admin":
        users["admin"].active = False
    db.session.commit()
    if "user_ids" in config:
        config = {**config, "user_ids": [users[name].id for name in config["user_ids"]]}
    wf = make_workflow(account, flow({**config, "title": "Hello"}, then="after"))
    c = make_contact(account, assigned_user_id=assigned)
    enroll(app, wf, [c])
    assert count() == 0
    row = step_log()
    assert row.outcome == "skipped" and row.output["reason"] == reason
    db.session.refresh(c)
    assert c.tags == ["after"]


def test_a_title_empty_after_merge_fields_is_skipped(app, account, users):
    wf = make_workflow(account, flow({"recipients": "role", "role": "admin", "title": "{{ contact.email }}"}))
    enroll(app, wf, [make_contact(account, email=None)])
    assert count() == 0 and step_log().output["reason"] == "rendered title is empty"


# --- saving: bad config names the step and field ---------------------------------------------

@pytest.mark.parametrize(("config", "path"), [
    ({"recipients": "users", "title": "x"}, "steps.n.config.user_ids"),
    ({"recipients": "role", "title": "x"}, "steps.n.config.role"),
    ({"recipients": "role", "role": "owner", "title": "x"}, "steps.n.config.role"),
    ({"recipients": "everyone", "title": "x"}, "steps.n.config.recipients"),
    ({"recipients": "assigned_user"}, "steps.n.config.title"),
    ({"recipients": "assigned_user", "title": "{{ contact.__class__ }}"}, "steps.n.config.title"),
    ({"recipients": "assigned_user", "title": "x", "body": "{% for x in y %}"}, "steps.n.config.body"),
])
def test_bad_config_is_refused_at_the_field(app, account, config, path):
    with pytest.raises(Invalid) as caught:
        create_workflow(account.id, flow(config), publish=True)
    assert path in caught.value.fields
    db.session.rollback()


# --- once per step run -----------------------------------------------------------------------

def test_advancing_the_same_run_twice_notifies_once(app, account, users):
    wf = make_workflow(account, flow({"recipients": "role", "role": "agent", "title": "Once"}))
    bulk = create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)
    runner.advance(ids)
    runner.advance(ids)
    runner.advance(ids + ids)
    run_jobs(app)
    assert sorted(n.user_id for n in notifications()) == sorted([users["agent"].id, users["agent2"].id])


def test_a_pass_taken_again_after_a_rollback_notifies_once(app, account, users):
    wf = make_workflow(account, flow({"recipients": "assigned_user", "title": "Once"}))
    c = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    [run_id] = create_batch_enrollments(bulk.id, 0)

    def notify() -> list[int]:
        run = db.session.get(Enrollment, run_id)
        store = SqlStore(db.session, account.id, lambda key: 0)
        return store.notify_users(run, run.contact, [users["agent"].id, users["manager"].id],
                                  title="Once", body="", key=f"{run_id}:0")

    assert len(notify()) == 2
    db.session.rollback()  # the pass is cut short: nothing of it stands
    assert count() == 0
    first = notify()
    db.session.commit()
    assert notify() == []  # the same step run again: everyone was notified already
    db.session.commit()
    assert sorted(n.id for n in notifications()) == sorted(first)


def test_the_database_refuses_a_second_notification_for_one_step_run_and_user(app, account, users):
    def row() -> Notification:
        return Notification(account_id=account.id, user_id=users["agent"].id, title="x", body="",
                            idempotency_key="1:0", created_at=utcnow())

    db.session.add(row())
    db.session.commit()
    db.session.add(row())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- the copy texted to the user's own phone ----------------------------------------------------

def test_the_copy_goes_to_each_users_phone_and_a_user_without_one_still_gets_the_notification(
        app, account, users, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    users["agent"].phone = "+14155550111"
    users["agent2"].phone = None
    db.session.commit()
    wf = make_workflow(account, flow({"recipients": "role", "role": "agent", "text_user": True, **TITLE}))
    enroll(app, wf, [make_contact(account, first_name="Ada", last_name="Lovelace")])
    texted, untexted = notifications()
    assert (texted.user_id, untexted.user_id) == (users["agent"].id, users["agent2"].id)
    assert (texted.sms_to, texted.sms_status, texted.sms_error) == ("+14155550111", NotificationSms.SENT, None)
    assert texted.sms_sent_at is not None
    assert (untexted.sms_to, untexted.sms_status) == (None, None)
    [sent] = fake_twilio.created()
    assert sent.value("To") == "+14155550111"
    assert sent.value("Body") == "New lead: Ada\nCall Ada Lovelace on +14155551000"
    output = step_log().output
    assert output["texted_user_ids"] == [users["agent"].id]
    assert output["not_texted"] == {str(users["agent2"].id): "user has no phone number in their profile"}


def test_the_copy_is_never_sent_twice(app, account, users, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    users["agent"].phone = "+14155550111"
    db.session.commit()
    wf = make_workflow(account, flow({"recipients": "assigned_user", "text_user": True, "title": "Once"}))
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)])
    [note] = notifications()
    notification_sms.deliver([note.id, note.id])  # delivered again, by a late or repeated follow-up
    assert len(fake_twilio.created()) == 1
    db.session.refresh(note)
    assert note.sms_status == NotificationSms.SENT


def test_a_refused_copy_is_logged_and_marked_failed_and_the_notification_stands(
        app, account, users, fake_twilio, caplog):
    connect_account(app, fake_twilio, account.id)
    users["agent"].phone = "+14155550111"
    db.session.commit()
    fake_twilio.fail_next(1, 400, 21211, "The 'To' number is not a valid phone number.")
    wf = make_workflow(account, flow({"recipients": "assigned_user", "text_user": True, "title": "Hi"}))
    with caplog.at_level(logging.WARNING, logger="jobqueue.notification_sms"):
        enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)])
    [note] = notifications()
    assert note.sms_status == NotificationSms.FAILED and "valid phone number" in note.sms_error
    assert note.read_at is None and step_log().outcome == "ok"
    assert any(f"notification {note.id}" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    notification_sms.deliver([note.id])  # a failed copy is not tried again
    assert len(fake_twilio.api_requests()) == 1


def test_without_the_option_nobody_is_texted(app, account, users, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    users["agent"].phone = "+14155550111"
    db.session.commit()
    wf = make_workflow(account, flow({"recipients": "assigned_user", "title": "Quiet"}))
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)])
    assert notifications()[0].sms_status is None and fake_twilio.api_requests() == []
    assert "texted_user_ids" not in step_log().output
