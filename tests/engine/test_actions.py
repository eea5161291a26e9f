"""Every action handler, driven through the real engine, SqlStore, database and RQ."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Contact, ContactTag, Enrollment, ExecutionLog, ManualAction, Message, Note, utcnow
from engine.actions.assign_user import weighted_sequence
from engine.actions.wait import wake_time
from jobqueue import runner
from jobqueue.connection import get_redis
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs


def flow(steps, start=None, **settings):
    return {"name": "Test flow", "start": start or next(iter(steps)), "steps": steps, "settings": settings}


def enroll(app, wf, contacts, *, is_test=False, version=None):
    create_request(wf, version or wf.published_version, [c.id for c in contacts], is_test=is_test)
    run_jobs(app)


def logs(**where):
    query = select(ExecutionLog).filter_by(**where).order_by(ExecutionLog.id)
    return list(db.session.scalars(query))


def runs():
    return list(db.session.scalars(select(Enrollment).order_by(Enrollment.id)))


def count(model, **where):
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def fresh(obj):
    db.session.refresh(obj)
    return obj


# --- assign_user -----------------------------------------------------------

def assign_flow(user_ids, **config):
    return flow({"a": {"type": "assign_user", "config": {"user_ids": user_ids, **config}}})


def assignees(contacts):
    return Counter(fresh(c).assigned_user_id for c in contacts)


def test_assign_single_user(app, account, users):
    wf = make_workflow(account, assign_flow([users["agent"].id]))
    contacts = [make_contact(account) for _ in range(3)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {users["agent"].id: 3}
    row = logs()[0]
    assert row.outcome == "ok" and row.output["user_id"] == users["agent"].id


def test_round_robin_splits_equally(app, account, users):
    ids = [users["agent"].id, users["agent2"].id, users["manager"].id]
    wf = make_workflow(account, assign_flow(ids))
    contacts = [make_contact(account) for _ in range(9)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {uid: 3 for uid in ids}


def test_round_robin_keeps_turns_across_requests(app, account, users):
    ids = [users["agent"].id, users["agent2"].id]
    wf = make_workflow(account, assign_flow(ids))
    contacts = [make_contact(account) for _ in range(4)]
    for c in contacts:  # one enroll request (and job) per contact
        enroll(app, wf, [c])
    assert assignees(contacts) == {ids[0]: 2, ids[1]: 2}


def test_weighted_split(app, account, users):
    ids = [users["agent"].id, users["agent2"].id]
    wf = make_workflow(account, assign_flow(ids, split="weighted", weights=[3, 1]))
    contacts = [make_contact(account) for _ in range(8)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {ids[0]: 6, ids[1]: 2}


def test_weighted_sequence_interleaves():
    assert weighted_sequence([3, 1]) == [0, 0, 1, 0]
    assert Counter(weighted_sequence([5, 2, 1])) == {0: 5, 1: 2, 2: 1}
    assert weighted_sequence([1, 1, 1]) == [0, 1, 2]


def test_only_unassigned_skips_assigned_contacts(app, account, users):
    wf = make_workflow(account, assign_flow([users["agent"].id], only_unassigned=True))
    taken = make_contact(account, assigned_user_id=users["manager"].id)
    free = make_contact(account)
    enroll(app, wf, [taken, free])
    assert fresh(taken).assigned_user_id == users["manager"].id
    assert fresh(free).assigned_user_id == users["agent"].id
    outcomes = {r.contact_id: r for r in logs()}
    assert outcomes[taken.id].outcome == "skipped" and outcomes[taken.id].output["reason"] == "contact already assigned"
    assert {r.status for r in runs()} == {"completed"}


def test_without_only_unassigned_reassigns(app, account, users):
    wf = make_workflow(account, assign_flow([users["agent"].id]))
    taken = make_contact(account, assigned_user_id=users["manager"].id)
    enroll(app, wf, [taken])
    assert fresh(taken).assigned_user_id == users["agent"].id


def test_deactivated_users_are_skipped(app, account, users):
    users["agent2"].active = False
    db.session.commit()
    ids = [users["agent"].id, users["agent2"].id, users["manager"].id]
    wf = make_workflow(account, assign_flow(ids))
    contacts = [make_contact(account) for _ in range(4)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {users["agent"].id: 2, users["manager"].id: 2}


def test_weights_follow_their_users_when_one_is_inactive(app, account, users):
    users["agent"].active = False
    db.session.commit()
    ids = [users["agent"].id, users["agent2"].id, users["manager"].id]
    wf = make_workflow(account, assign_flow(ids, split="weighted", weights=[5, 3, 1]))
    contacts = [make_contact(account) for _ in range(8)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {users["agent2"].id: 6, users["manager"].id: 2}


def test_all_inactive_logs_skipped_and_goes_on(app, account, users):
    for role in ("agent", "agent2"):
        users[role].active = False
    db.session.commit()
    steps = {
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent"].id, users["agent2"].id]}, "next": "b"},
        "b": {"type": "add_tag", "config": {"tag": "after"}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account)
    enroll(app, wf, [c])
    assert fresh(c).assigned_user_id is None and fresh(c).tags == ["after"]
    row = logs(step_id="a")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "none of the chosen users is active"


def test_users_of_another_account_are_never_assigned(app, account, users):
    from builder.domain.users import create_user
    from builder.models import Account

    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    # Saving refuses another account's users, so the stranger moves there after the workflow is saved.
    stranger = create_user("stranger@other.test", "agent", "pw-pw-pw-pw", "Stranger", account)
    wf = make_workflow(account, assign_flow([stranger.id, users["agent"].id]))
    stranger.account_id = other.id
    db.session.commit()
    contacts = [make_contact(account) for _ in range(2)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {users["agent"].id: 2}


# --- add_tag / remove_tag -----------------------------------------------------

def tag_rows(contact):
    return sorted(db.session.scalars(select(ContactTag.tag).where(ContactTag.contact_id == contact.id)))


def test_add_tag(app, account):
    wf = make_workflow(account, flow({"a": {"type": "add_tag", "config": {"tag": "plan-{{ contact.custom.plan }}"}}}))
    c = make_contact(account, custom_fields={"plan": "gold"})
    enroll(app, wf, [c])
    assert tag_rows(c) == ["plan-gold"]
    assert logs()[0].outcome == "ok" and logs()[0].output["tag"] == "plan-gold"


def test_add_tag_already_there_is_skipped_without_a_duplicate_row(app, account):
    steps = {
        "a": {"type": "add_tag", "config": {"tag": "vip"}, "next": "b"},
        "b": {"type": "add_tag", "config": {"tag": "VIP "}},  # tags compare without case, trimmed
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account, tags=["vip"])
    enroll(app, wf, [c])
    assert tag_rows(c) == ["vip"]
    assert [(r.outcome, r.output["reason"]) for r in logs()] == [("skipped", "contact already has the tag")] * 2


def test_add_tag_rendered_empty_is_skipped(app, account):
    wf = make_workflow(account, flow({"a": {"type": "add_tag", "config": {"tag": "{{ contact.custom.segment }}"}}}))
    c = make_contact(account)
    enroll(app, wf, [c])
    assert tag_rows(c) == [] and logs()[0].output["reason"] == "tag rendered empty"


def test_add_tag_rendered_too_long_is_skipped_not_a_crash(app, account):
    wf = make_workflow(account, flow({"a": {"type": "add_tag", "config": {"tag": "{{ contact.custom.segment }}"}}}))
    long, ok = make_contact(account, custom_fields={"segment": "s" * 150}), make_contact(account)
    enroll(app, wf, [long, ok])
    assert tag_rows(long) == []
    assert "longer than 100" in logs(contact_id=long.id)[0].output["reason"]
    assert {r.status for r in runs()} == {"completed"}


def test_remove_tag(app, account):
    wf = make_workflow(account, flow({"a": {"type": "remove_tag", "config": {"tag": "Cold"}}}))
    c = make_contact(account, tags=["cold", "vip"])
    enroll(app, wf, [c])
    assert tag_rows(c) == ["vip"]
    assert logs()[0].outcome == "ok" and logs()[0].output["tag"] == "cold"


def test_remove_missing_tag_is_skipped(app, account):
    wf = make_workflow(account, flow({"a": {"type": "remove_tag", "config": {"tag": "cold"}}}))
    c = make_contact(account, tags=["vip"])
    enroll(app, wf, [c])
    assert tag_rows(c) == ["vip"]
    assert logs()[0].outcome == "skipped" and logs()[0].output["reason"] == "contact did not have the tag"


def test_remove_then_add_the_same_tag_in_one_pass(app, account):
    steps = {
        "a": {"type": "remove_tag", "config": {"tag": "stage"}, "next": "b"},
        "b": {"type": "add_tag", "config": {"tag": "stage"}, "next": "c"},
        "c": {"type": "add_tag", "config": {"tag": "stage"}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account, tags=["stage"])
    enroll(app, wf, [c])
    assert tag_rows(c) == ["stage"]
    assert [r.outcome for r in logs()] == ["ok", "ok", "skipped"]
    assert runs()[0].status == "completed"


# --- update_contact_field -------------------------------------------------------

def test_update_standard_and_custom_fields_with_merge_fields(app, account):
    steps = {
        "a": {"type": "update_contact_field",
              "config": {"field": "last_name", "value": "{{ contact.custom.maiden|title }}"}, "next": "b"},
        "b": {"type": "update_contact_field",
              "config": {"field": "custom.greeting", "value": "Hi {{ contact.first_name }}"}, "next": "c"},
        "c": {"type": "update_contact_field", "config": {"field": "timezone", "value": "Europe/Paris"}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account, first_name="Ada", custom_fields={"maiden": "byron"})
    enroll(app, wf, [c])
    c = fresh(c)
    assert c.last_name == "Byron" and c.timezone == "Europe/Paris"
    assert c.custom_fields == {"maiden": "byron", "greeting": "Hi Ada"}
    assert [r.output["value"] for r in logs()] == ["Byron", "Hi Ada", "Europe/Paris"]


def test_clearing_the_email(app, account):
    wf = make_workflow(account, flow({"a": {"type": "update_contact_field",
                                            "config": {"field": "email", "value": ""}}}))
    c = make_contact(account, email="old@example.com")
    enroll(app, wf, [c])
    assert fresh(c).email is None


@pytest.mark.parametrize("field, value, reason", [
    ("timezone", "Mars/Olympus", "not a known time zone"),
    ("timezone", "America", "not a known time zone"),
    ("email", "not-an-email", "not a valid email address"),
    ("first_name", "{{ contact.custom.long }}", "longer than the 100 characters"),
])
def test_values_the_field_cannot_hold_are_skipped(app, account, field, value, reason):
    wf = make_workflow(account, flow({"a": {"type": "update_contact_field",
                                            "config": {"field": field, "value": value}, "next": "b"},
                                      "b": {"type": "add_tag", "config": {"tag": "after"}}}))
    c = make_contact(account, timezone="UTC", email="a@example.com", custom_fields={"long": "x" * 101})
    enroll(app, wf, [c])
    c = fresh(c)
    assert (c.timezone, c.email, c.first_name) == ("UTC", "a@example.com", "Ada")
    row = logs(step_id="a")[0]
    assert row.outcome == "skipped" and reason in row.output["reason"]
    assert c.tags == ["after"] and runs()[0].status == "completed"


# --- add_note -------------------------------------------------------------------

def test_add_note_renders_the_body(app, account):
    wf = make_workflow(account, flow({"a": {"type": "add_note",
                                            "config": {"body": "Lead {{ contact.name }} is on "
                                                                "{{ contact.custom.plan }}"}}}))
    c = make_contact(account, first_name="Ada", last_name="Lovelace", custom_fields={"plan": "gold"})
    enroll(app, wf, [c])
    note = db.session.scalar(select(Note))
    run = runs()[0]
    assert note.body == "Lead Ada Lovelace is on gold"
    assert (note.contact_id, note.workflow_id, note.enrollment_id) == (c.id, wf.id, run.id)
    assert note.idempotency_key == logs()[0].idempotency_key and note.is_test is False


# --- if_else --------------------------------------------------------------------

ROUTES = {
    "check": {"type": "if_else", "config": {"branches": [
        {"name": "Gold VIP", "match": "all", "conditions": [
            {"field": "contact.tags", "op": "has_tag", "value": "vip"},
            {"field": "contact.custom.plan", "op": "equals", "value": "gold"}], "next": "gold"},
        {"name": "Hot or east", "match": "any", "conditions": [
            {"field": "contact.custom.score", "op": "greater_than", "value": 50},
            {"field": "contact.timezone", "op": "equals", "value": "America/New_York"}], "next": "any"},
        {"name": "No email", "conditions": [{"field": "contact.email", "op": "is_empty"}], "next": None},
    ], "else_next": "other"}},
    "gold": {"type": "add_tag", "config": {"tag": "route-gold"}},
    "any": {"type": "add_tag", "config": {"tag": "route-any"}},
    "other": {"type": "add_tag", "config": {"tag": "route-else"}},
}


def test_if_else_routes(app, account):
    wf = make_workflow(account, flow(ROUTES))
    email = {"email": "x@example.com"}
    contacts = {
        "gold": make_contact(account, tags=["VIP"], custom_fields={"plan": "Gold"}, **email),
        "any-score": make_contact(account, tags=["vip"], custom_fields={"plan": "silver", "score": "80"}, **email),
        "any-zone": make_contact(account, timezone="America/New_York", custom_fields={"score": 10}, **email),
        "ends": make_contact(account, custom_fields={"score": 10}),
        "else": make_contact(account, custom_fields={"score": 50}, **email),
    }
    enroll(app, wf, list(contacts.values()))
    tags = {name: fresh(c).tags for name, c in contacts.items()}
    assert tags == {"gold": ["VIP", "route-gold"], "any-score": ["route-any", "vip"], "any-zone": ["route-any"],
                    "ends": [], "else": ["route-else"]}
    outputs = {r.contact_id: r.output for r in logs(step_id="check")}
    assert outputs[contacts["gold"].id] == {"branch": 0, "branch_name": "Gold VIP", "next": "gold"}
    assert outputs[contacts["ends"].id] == {"branch": 2, "branch_name": "No email"}
    assert outputs[contacts["else"].id] == {"branch": "else", "next": "other"}
    assert {r.status for r in runs()} == {"completed"}


# --- wait -----------------------------------------------------------------------

WAIT_THEN_TAG = {
    "w": {"type": "wait", "config": {"amount": 2, "unit": "hours"}, "next": "t"},
    "t": {"type": "add_tag", "config": {"tag": "woke"}},
}


def scheduled(app):
    registry = ScheduledJobRegistry(queue=Queue(app.config["RQ_QUEUE"], connection=get_redis()))
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def test_delay_waits_then_resumes(app, account):
    wf = make_workflow(account, flow(WAIT_THEN_TAG))
    c = make_contact(account)
    before = utcnow()
    enroll(app, wf, [c])
    run = runs()[0]
    assert run.status == "waiting" and run.current_step == "w"
    assert before + timedelta(hours=2) <= run.wake_at <= utcnow() + timedelta(hours=2)
    (when,) = scheduled(app).values()
    assert abs(when.replace(tzinfo=None) - run.wake_at) < timedelta(seconds=2)
    assert fresh(c).tags == []
    assert run_scheduled_jobs(app) == 1
    run_jobs(app)
    run = fresh(run)
    assert run.status == "completed" and run.wake_at is None and fresh(c).tags == ["woke"]
    assert [(r.step_id, r.outcome) for r in logs()] == [("w", "waiting"), ("w", "ok"), ("t", "ok")]
    assert logs()[1].output == {"resumed_by": "timer", "next": "t"}


def test_until_is_read_in_the_contacts_time_zone(app, account):
    steps = {"w": {"type": "wait", "config": {"mode": "until", "until": "2099-07-01T09:00"}, "next": "t"},
             "t": {"type": "add_tag", "config": {"tag": "woke"}}}
    wf = make_workflow(account, flow(steps))
    ny, paris = make_contact(account, timezone="America/New_York"), make_contact(account, timezone="Europe/Paris")
    enroll(app, wf, [ny, paris])
    wake = {r.contact_id: r.wake_at for r in runs()}
    assert wake[ny.id] == datetime(2099, 7, 1, 13, 0)  # EDT is UTC-4 in July
    assert wake[paris.id] == datetime(2099, 7, 1, 7, 0)  # CEST is UTC+2
    assert sorted(t.replace(tzinfo=None) for t in scheduled(app).values()) == sorted(wake.values())
    run_scheduled_jobs(app)
    run_jobs(app)
    assert {r.status for r in runs()} == {"completed"}


@pytest.mark.parametrize("zone, until, expected", [
    ("America/New_York", "2030-01-15T09:00", datetime(2030, 1, 15, 14, 0)),  # EST, UTC-5
    ("America/New_York", "2030-07-15T09:00", datetime(2030, 7, 15, 13, 0)),  # EDT, UTC-4
    ("Asia/Kolkata", "2030-07-15T09:00", datetime(2030, 7, 15, 3, 30)),
    ("", "2030-07-15T09:00", datetime(2030, 7, 15, 9, 0)),  # no zone: UTC
    ("Not/AZone", "2030-07-15T09:00", datetime(2030, 7, 15, 9, 0)),
    ("America", "2030-07-15T09:00", datetime(2030, 7, 15, 9, 0)),  # a folder of zones, not a zone
])
def test_wake_time_for_until(zone, until, expected):
    assert wake_time({"mode": "until", "until": until}, zone, datetime(2029, 1, 1)) == expected


def test_wake_time_for_delay():
    now = datetime(2030, 1, 1, 12, 0)
    assert wake_time({"mode": "delay", "amount": 90, "unit": "seconds"}, "UTC", now) == now + timedelta(seconds=90)
    assert wake_time({"mode": "delay", "amount": 3, "unit": "days"}, "UTC", now) == now + timedelta(days=3)


def test_until_in_the_past_is_skipped(app, account):
    steps = {"w": {"type": "wait", "config": {"mode": "until", "until": "2001-01-01T09:00"}, "next": "t"},
             "t": {"type": "add_tag", "config": {"tag": "went-on"}}}
    wf = make_workflow(account, flow(steps))
    c = make_contact(account)
    enroll(app, wf, [c])
    assert runs()[0].status == "completed" and fresh(c).tags == ["went-on"]
    row = logs(step_id="w")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "the time to wait until has passed"
    assert scheduled(app) == {}


# --- send_sms ---------------------------------------------------------------------

SMS = {"s": {"type": "send_sms",
             "config": {"message": "Hi {{ contact.first_name }}, your plan is {{ contact.custom.plan }}"},
             "next": "t"},
       "t": {"type": "add_tag", "config": {"tag": "after"}}}


def test_send_sms_through_the_console_provider(app, account):
    wf = make_workflow(account, flow(SMS))
    c = make_contact(account, first_name="Ada", phone="+12025550123", custom_fields={"plan": "gold"})
    enroll(app, wf, [c])
    msg = db.session.scalar(select(Message))
    assert (msg.status, msg.provider, msg.direction, msg.channel) == ("sent", "console", "outbound", "sms")
    assert msg.body == "Hi Ada, your plan is gold" and msg.to_number == "+12025550123"
    assert msg.provider_sid.startswith("console-") and msg.sent_at is not None
    run = runs()[0]
    assert (msg.contact_id, msg.workflow_id, msg.enrollment_id) == (c.id, wf.id, run.id)
    row = logs(step_id="s")[0]
    assert row.outcome == "ok" and row.output["message_id"] == msg.id and msg.idempotency_key == row.idempotency_key
    assert run.status == "completed" and fresh(c).tags == ["after"]


@pytest.mark.parametrize("fields, reason", [
    ({"phone": None}, "contact has no valid phone number"),
    ({"phone": ""}, "contact has no valid phone number"),
    ({"dnd_sms": True}, "contact has SMS do-not-disturb on"),
])
def test_send_sms_skipped(app, account, fields, reason):
    wf = make_workflow(account, flow(SMS))
    c = make_contact(account, **fields)
    enroll(app, wf, [c])
    assert count(Message) == 0
    row = logs(step_id="s")[0]
    assert row.outcome == "skipped" and row.output == {"reason": reason, "next": "t"}
    assert runs()[0].status == "completed" and fresh(c).tags == ["after"]


def test_send_sms_rendered_empty_is_skipped(app, account):
    wf = make_workflow(account, flow({"s": {"type": "send_sms", "config": {"message": "{{ contact.custom.x }}"}}}))
    enroll(app, wf, [make_contact(account)])
    assert count(Message) == 0 and logs()[0].output["reason"] == "rendered text is empty"


# --- manual_sms / manual_call -------------------------------------------------------

def manual_flow(step_type, **config):
    return flow({
        "m": {"type": step_type, "name": "Follow up", "config": config, "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "after"}},
    })


def test_manual_sms_queues_for_the_assigned_user_and_parks(app, account, users):
    wf = make_workflow(account, manual_flow("manual_sms", message="Hi {{ contact.first_name }}!"))
    c = make_contact(account, first_name="Grace", assigned_user_id=users["agent"].id)
    enroll(app, wf, [c])
    action = db.session.scalar(select(ManualAction))
    run = runs()[0]
    assert (action.type, action.status, action.name, action.message) == ("sms", "queued", "Follow up", "Hi Grace!")
    assert (action.assignee_id, action.contact_id, action.workflow_id) == (users["agent"].id, c.id, wf.id)
    assert (action.enrollment_id, action.step_id, action.parks_enrollment) == (run.id, "m", True)
    assert run.status == "parked" and run.current_step == "m" and fresh(c).tags == []
    row = logs()[0]
    assert row.outcome == "parked" and row.output["manual_action_id"] == action.id
    # Completing the action lets the run go on.
    runner.resume(run.id, run.seq, "completed")
    assert fresh(run).status == "completed" and fresh(c).tags == ["after"]


def test_manual_sms_without_a_message_leaves_it_to_the_agent(app, account, users):
    wf = make_workflow(account, manual_flow("manual_sms"))
    enroll(app, wf, [make_contact(account)])
    action = db.session.scalar(select(ManualAction))
    assert action.message == "" and action.assignee_id is None  # an unassigned contact: anyone may take it


def test_manual_call_queues_a_call(app, account, users):
    wf = make_workflow(account, manual_flow("manual_call"))
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent2"].id)])
    action = db.session.scalar(select(ManualAction))
    assert (action.type, action.assignee_id, action.message) == ("call", users["agent2"].id, None)
    assert runs()[0].status == "parked"


def test_manual_step_name_in_config_wins(app, account):
    wf = make_workflow(account, flow({"m": {"type": "manual_call", "config": {"name": "Call about renewal"}}}))
    enroll(app, wf, [make_contact(account)])
    assert db.session.scalar(select(ManualAction.name)) == "Call about renewal"


@pytest.mark.parametrize("step_type", ["manual_sms", "manual_call"])
def test_continue_without_waiting(app, account, users, step_type):
    wf = make_workflow(account, manual_flow(step_type, continue_without_waiting=True))
    c = make_contact(account, assigned_user_id=users["agent"].id)
    enroll(app, wf, [c])
    action = db.session.scalar(select(ManualAction))
    assert action.status == "queued" and action.parks_enrollment is False
    assert runs()[0].status == "completed" and fresh(c).tags == ["after"]
    assert [r.outcome for r in logs()] == ["ok", "ok"]


# --- goto / end --------------------------------------------------------------------

def test_goto_jumps(app, account):
    steps = {
        "a": {"type": "add_tag", "config": {"tag": "a"}, "next": "jump"},
        "jump": {"type": "goto", "config": {"target": "c"}},
        "c": {"type": "add_tag", "config": {"tag": "c"}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account)
    enroll(app, wf, [c])
    assert fresh(c).tags == ["a", "c"]
    assert [(r.step_id, r.output.get("next")) for r in logs()] == [("a", "jump"), ("jump", "c"), ("c", None)]


def test_goto_back_through_a_wait_loops_once_per_wake(app, account):
    steps = {
        "w": {"type": "wait", "config": {"amount": 1, "unit": "days"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "tick"}, "next": "back"},
        "back": {"type": "goto", "config": {"target": "w"}},
    }
    wf = make_workflow(account, flow(steps))
    enroll(app, wf, [make_contact(account)])
    for _ in range(2):
        run_scheduled_jobs(app)
        run_jobs(app)
    assert count(Note) == 2 and runs()[0].status == "waiting"


def test_end_finishes_the_run(app, account):
    steps = {
        "check": {"type": "if_else", "config": {"branches": [
            {"conditions": [{"field": "contact.tags", "op": "has_tag", "value": "stop"}], "next": "stop"}],
            "else_next": "go"}},
        "stop": {"type": "end"},
        "go": {"type": "add_tag", "config": {"tag": "went"}},
    }
    wf = make_workflow(account, flow(steps))
    stopper, goer = make_contact(account, tags=["stop"]), make_contact(account)
    enroll(app, wf, [stopper, goer])
    assert fresh(stopper).tags == ["stop"] and fresh(goer).tags == ["went"]
    assert logs(contact_id=stopper.id)[-1].outcome == "ended"
    assert {r.status for r in runs()} == {"completed"}
    assert all(r.finished_at is not None for r in runs())


# --- test enrollments ---------------------------------------------------------------

def test_test_runs_mark_every_row_they_produce(app, account, users):
    steps = {
        "assign": {"type": "assign_user", "config": {"user_ids": [users["agent"].id]}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "testing {{ contact.first_name }}"}, "next": "sms"},
        "sms": {"type": "send_sms", "config": {"message": "test message"}, "next": "call"},
        "call": {"type": "manual_call", "config": {"continue_without_waiting": True}, "next": "text"},
        "text": {"type": "manual_sms", "config": {"message": "hello"}},
    }
    wf = make_workflow(account, flow(steps), publish=False)  # a draft: test runs may use one
    c = make_contact(account)
    enroll(app, wf, [c], is_test=True, version=wf.latest_version())
    run = runs()[0]
    assert run.is_test and run.status == "parked"
    runner.resume(run.id, fresh(run).seq, "completed")
    assert fresh(run).status == "completed"
    assert count(ExecutionLog) == 6 and count(ExecutionLog, is_test=True) == 6
    assert count(Note) == 1 and count(Note, is_test=True) == 1
    assert count(Message) == 1 and count(Message, is_test=True) == 1
    assert count(ManualAction) == 2 and count(ManualAction, is_test=True) == 2


def test_real_runs_are_not_marked_as_tests(app, account):
    wf = make_workflow(account, flow({"n": {"type": "add_note", "config": {"body": "real"}, "next": "s"},
                                      "s": {"type": "send_sms", "config": {"message": "real"}}}))
    enroll(app, wf, [make_contact(account)])
    assert count(ExecutionLog, is_test=False) == 2 and count(Note, is_test=False) == 1
    assert count(Message, is_test=False) == 1 and count(Contact) == 1
