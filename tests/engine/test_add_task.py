"""The Add Task action, driven through the real engine, SqlStore, database and RQ: who gets the task, when it
is due (in the contact's own time zone), merge fields, skips with their reasons, and a retried pass adding once."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from builder.extensions import db
from builder.models import Task, utcnow
from engine.graph import load_graph
from jobqueue import runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.engine.test_actions import count, enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow


def task_flow(**config):
    config.setdefault("title", "Call {{ contact.first_name }}")
    return flow({"a": {"type": "add_task", "config": config, "next": "b"},
                 "b": {"type": "add_tag", "config": {"tag": "after"}}})


def tasks() -> list[Task]:
    return list(db.session.scalars(select(Task).order_by(Task.id)))


# --- what the task says and who gets it ---------------------------------------------------------

def test_the_contacts_assigned_user_gets_a_rendered_task(app, account, users):
    wf = make_workflow(account, task_flow(title="Call {{ contact.first_name }} about {{ contact.custom.plan }}",
                                          body="Plan: {{ contact.custom.plan }}\nPhone: {{ contact.phone }}"))
    c = make_contact(account, first_name="Ada", custom_fields={"plan": "gold"}, assigned_user_id=users["agent"].id)
    before = utcnow()
    enroll(app, wf, [c])
    after = utcnow()
    [task] = tasks()
    run = runs()[0]
    assert (task.title, task.body) == ("Call Ada about gold", "Plan: gold\nPhone: +14155551000")
    assert (task.assignee_id, task.contact_id, task.account_id) == (users["agent"].id, c.id, account.id)
    assert (task.workflow_id, task.enrollment_id, task.created_by_id) == (wf.id, run.id, None)
    assert task.status == "open" and task.completed_at is None and task.is_test is False
    # The default: due a day after the step ran.
    assert before + timedelta(days=1) <= task.due_at <= after + timedelta(days=1)
    row = logs(step_id="a")[0]
    assert row.outcome == "ok" and task.idempotency_key == row.idempotency_key
    assert row.output["task_id"] == task.id and row.output["assignee_id"] == users["agent"].id
    assert run.status == "completed" and fresh(c).tags == ["after"]


def test_a_chosen_user_gets_the_task_whoever_owns_the_contact(app, account, users):
    wf = make_workflow(account, task_flow(assign_to="user", user_ids=[users["manager"].id]))
    contacts = [make_contact(account, assigned_user_id=users["agent"].id), make_contact(account)]
    enroll(app, wf, contacts)
    assert [t.assignee_id for t in tasks()] == [users["manager"].id] * 2


def test_round_robin_shares_tasks_in_turn_across_passes(app, account, users):
    ids = [users["agent"].id, users["agent2"].id, users["manager"].id]
    wf = make_workflow(account, task_flow(assign_to="round_robin", user_ids=ids))
    contacts = [make_contact(account) for _ in range(6)]
    enroll(app, wf, contacts[:3])
    enroll(app, wf, contacts[3:])  # another request and job: the turns go on from where they were
    assert Counter(t.assignee_id for t in tasks()) == {uid: 2 for uid in ids}


def test_round_robin_leaves_out_deactivated_users(app, account, users):
    users["agent2"].active = False
    db.session.commit()
    wf = make_workflow(account, task_flow(assign_to="round_robin", user_ids=[users["agent"].id, users["agent2"].id,
                                                                             users["manager"].id]))
    enroll(app, wf, [make_contact(account) for _ in range(4)])
    assert Counter(t.assignee_id for t in tasks()) == {users["agent"].id: 2, users["manager"].id: 2}


def test_a_test_run_adds_a_test_task(app, account, users):
    wf = make_workflow(account, task_flow())
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)], is_test=True)
    assert [t.is_test for t in tasks()] == [True]


# --- due times -----------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, unit, delta", [
    (30, "minutes", timedelta(minutes=30)), (4, "hours", timedelta(hours=4)), (3, "days", timedelta(days=3))])
def test_due_a_time_after_the_step_runs(app, account, users, amount, unit, delta):
    wf = make_workflow(account, task_flow(due="after", due_amount=amount, due_unit=unit))
    before = utcnow()
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)])
    after = utcnow()
    assert before + delta <= tasks()[0].due_at <= after + delta


@pytest.mark.parametrize("zone, due_utc", [
    ("America/New_York", datetime(2030, 1, 15, 14, 30)),  # EST, UTC-5
    ("Asia/Tokyo", datetime(2030, 1, 15, 0, 30)),  # UTC+9
    ("America/Los_Angeles", datetime(2030, 7, 15, 16, 30)),  # PDT in July, UTC-7
    ("Not/AZone", datetime(2030, 1, 15, 9, 30)),  # an unknown zone reads as UTC
])
def test_due_at_a_date_and_time_in_the_contacts_zone(app, account, users, zone, due_utc):
    local = "2030-07-15T09:30" if due_utc.month == 7 else "2030-01-15T09:30"
    wf = make_workflow(account, task_flow(due="at", due_at=local))
    enroll(app, wf, [make_contact(account, timezone=zone, assigned_user_id=users["agent"].id)])
    assert tasks()[0].due_at == due_utc
    assert logs(step_id="a")[0].output["due_at"] == due_utc.isoformat()


# --- nobody to give it to -----------------------------------------------------------------------------

@pytest.mark.parametrize("setup, config, reason", [
    ("unassigned", {}, "the contact has no assigned user"),
    ("owner_inactive", {}, "the contact's assigned user is not active"),
    ("chosen_inactive", {"assign_to": "user"}, "the chosen user is not active"),
    ("all_inactive", {"assign_to": "round_robin"}, "none of the chosen users is active"),
])
def test_no_assignee_skips_the_step_with_its_reason(app, account, users, setup, config, reason):
    if config:
        chosen = ["agent"] if config["assign_to"] == "user" else ["agent", "agent2"]
        config = {**config, "user_ids": [users[role].id for role in chosen]}
    wf = make_workflow(account, task_flow(**config))
    if setup != "unassigned":
        users["agent"].active = False
        users["agent2"].active = False
        db.session.commit()
    c = make_contact(account, assigned_user_id=None if setup == "unassigned" else users["agent"].id)
    enroll(app, wf, [c])
    assert tasks() == []
    row = logs(step_id="a")[0]
    assert row.outcome == "skipped" and row.output["reason"] == reason
    assert runs()[0].status == "completed" and fresh(c).tags == ["after"]


def test_a_title_that_renders_empty_is_skipped(app, account, users):
    wf = make_workflow(account, task_flow(title="{{ contact.custom.topic }}"))
    enroll(app, wf, [make_contact(account, assigned_user_id=users["agent"].id)])
    assert tasks() == [] and logs(step_id="a")[0].output["reason"] == "the title rendered empty"


# --- idempotency ----------------------------------------------------------------------------------------

def test_a_retried_pass_finds_its_task_instead_of_adding_another(app, account, users):
    wf = make_workflow(account, task_flow())
    c = make_contact(account, assigned_user_id=users["agent"].id)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    [run_id] = create_batch_enrollments(bulk.id, 0)
    db.session.commit()
    # A task already saved under the key this step run will use, as if an earlier try had got that far.
    earlier = Task(account_id=account.id, contact_id=c.id, title="Call Ada", assignee_id=users["agent"].id,
                   due_at=utcnow(), workflow_id=wf.id, enrollment_id=run_id, idempotency_key=f"{run_id}:0")
    db.session.add(earlier)
    db.session.commit()

    runner.advance([run_id])

    assert [t.id for t in tasks()] == [earlier.id]
    row = logs(step_id="a")[0]
    assert row.outcome == "ok" and row.output["task_id"] == earlier.id
    assert runs()[0].status == "completed"


def test_advancing_the_same_run_again_adds_the_task_once(app, account, users):
    wf = make_workflow(account, task_flow(assign_to="round_robin", user_ids=[users["agent"].id, users["agent2"].id]))
    c = make_contact(account)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)
    db.session.commit()
    runner.advance(ids)
    runner.advance(ids)
    runner.advance(ids + ids)
    assert count(Task) == 1 and [r.step_id for r in logs()] == ["a", "b"]


# --- the config a save accepts ----------------------------------------------------------------------

@pytest.mark.parametrize("config, path, message", [
    ({"title": ""}, "title", "Length must be between 1 and 200."),
    ({"title": "{{ contact.__class__ }}"}, "title", "Merge field error: '__class__' is not allowed in merge fields"),
    ({"title": "x", "assign_to": "user"}, "user_ids", "Choose the user to give tasks to."),
    ({"title": "x", "assign_to": "user", "user_ids": [1, 2]}, "user_ids",
     "Choose one user, or round-robin to share tasks among several."),
    ({"title": "x", "assign_to": "round_robin"}, "user_ids", "Choose the users who take tasks in turn."),
    ({"title": "x", "due": "at"}, "due_at", "Give the date and time the task is due."),
    ({"title": "x", "due_unit": "weeks"}, "due_unit", "Must be one of: minutes, hours, days."),
    ({"title": "x", "due_amount": 0}, "due_amount",
     "Must be greater than or equal to 1 and less than or equal to 100000."),
])
def test_bad_configs_are_refused_naming_the_step_and_field(config, path, message):
    with pytest.raises(ValidationError) as caught:
        load_graph(flow({"a": {"type": "add_task", "config": config}}))
    assert caught.value.messages == {f"steps.a.config.{path}": [message]}


def test_a_saved_config_keeps_its_defaults_and_the_due_time_as_text():
    graph = load_graph(flow({"a": {"type": "add_task", "config": {"title": "Call", "due": "at",
                                                                   "due_at": "2030-01-15T09:30"}}}))
    config = graph["steps"]["a"]["config"]
    assert config == {"title": "Call", "body": "", "assign_to": "contact_owner", "due": "at", "due_amount": 1,
                      "due_unit": "days", "due_at": "2030-01-15T09:30:00"}
