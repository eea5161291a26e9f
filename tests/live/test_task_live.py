"""Live task events over Socket.IO (the test client, no message queue: see conftest): who hears a task
added by a workflow's step run in a worker, and the changes made over the API, decided when they are published."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import Task
from builder.schemas.tasks import TaskSchema
from jobqueue import enroll
from tests.factories import connect, drain, make_contact, make_outsider, make_workflow, run_jobs
from tests.factories import events_by_name as by_name

ADD_TASK = {"name": "Follow up", "start": "t", "steps": {
    "t": {"type": "add_task", "config": {"title": "Call {{ contact.first_name }}"}, "next": None}}}
TASK_EVENTS = ("task.created", "task.updated", "task.deleted")


@pytest.fixture
def listeners(app, users) -> dict:
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    clients["outsider"] = connect(app, make_outsider("admin"))
    return clients


def heard(listeners) -> dict[str, dict[str, list[int]]]:
    """Role -> task event -> the task ids it carried, since last asked."""
    out = {}
    for role, sio_client in listeners.items():
        events = by_name(sio_client)
        out[role] = {name: [row["id"] for row in events.get(name, [])] for name in TASK_EVENTS if events.get(name)}
    return out


def test_a_task_from_a_workflow_reaches_its_agent_and_the_managers_only(app, account, users, listeners, as_user):
    contact = make_contact(account, first_name="Ada", assigned_user_id=users["agent"].id)
    wf = make_workflow(account, ADD_TASK)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    drain(*listeners.values())

    run_jobs(app)  # the worker's pass adds the task and publishes after its commit

    task = db.session.scalar(select(Task))
    events = {role: by_name(c) for role, c in listeners.items()}
    [row] = events["agent"]["task.created"]
    assert set(row) == set(TaskSchema().fields) and row["title"] == "Call Ada"
    assert row == as_user("agent").get(f"/api/tasks/{task.id}").get_json()  # the REST row, field for field
    for role in ("manager", "admin"):
        assert [r["id"] for r in events[role]["task.created"]] == [task.id]
    assert "task.created" not in events["agent2"]
    assert events["outsider"] == {}


def test_changes_over_the_api_reach_whoever_sees_the_task_then(app, account, users, listeners, as_user):
    # The contact is the manager's: agent A sees the task only while it is theirs.
    contact = make_contact(account, assigned_user_id=users["manager"].id)
    created = as_user("manager").post("/api/tasks", json={
        "contact_id": contact.id, "title": "Send the quote", "due_at": "2030-01-15T09:30:00Z",
        "assignee_id": users["agent"].id})
    assert created.status_code == 201
    task_id = created.get_json()["id"]
    assert heard(listeners) == {"admin": {"task.created": [task_id]}, "manager": {"task.created": [task_id]},
                                "agent": {"task.created": [task_id]}, "agent2": {}, "outsider": {}}

    as_user("agent").post(f"/api/tasks/{task_id}/complete")
    assert heard(listeners) == {"admin": {"task.updated": [task_id]}, "manager": {"task.updated": [task_id]},
                                "agent": {"task.updated": [task_id]}, "agent2": {}, "outsider": {}}

    # Given to agent B: agent A is told it left their list, agent B hears of it from now on.
    as_user("manager").patch(f"/api/tasks/{task_id}", json={"assignee_id": users["agent2"].id})
    assert heard(listeners) == {"admin": {"task.updated": [task_id]}, "manager": {"task.updated": [task_id]},
                                "agent": {"task.deleted": [task_id]}, "agent2": {"task.updated": [task_id]},
                                "outsider": {}}

    as_user("agent2").delete(f"/api/tasks/{task_id}")
    assert heard(listeners) == {"admin": {"task.deleted": [task_id]}, "manager": {"task.deleted": [task_id]},
                                "agent": {}, "agent2": {"task.deleted": [task_id]}, "outsider": {}}


def test_the_agent_whose_contact_it_is_hears_tasks_given_to_others(app, account, users, listeners, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    created = as_user("manager").post("/api/tasks", json={
        "contact_id": contact.id, "title": "Check in", "due_at": "2030-01-15T09:30:00Z",
        "assignee_id": users["agent2"].id})
    task_id = created.get_json()["id"]
    events = heard(listeners)
    assert events["agent"] == {"task.created": [task_id]} and events["agent2"] == {"task.created": [task_id]}


def test_a_deactivated_agent_hears_nothing_more(app, account, users, listeners, as_user):
    contact = make_contact(account, assigned_user_id=users["manager"].id)
    created = as_user("manager").post("/api/tasks", json={
        "contact_id": contact.id, "title": "Check in", "due_at": "2030-01-15T09:30:00Z",
        "assignee_id": users["agent"].id})
    task_id = created.get_json()["id"]
    drain(*listeners.values())
    users["agent"].active = False
    db.session.commit()
    as_user("manager").patch(f"/api/tasks/{task_id}", json={"title": "Changed"})
    assert heard(listeners)["agent"] == {}


def test_a_contact_changing_hands_moves_its_tasks_between_the_owners_lists(app, account, users, listeners, as_user):
    # A task for agent2 about agent's contact: agent sees it as the contact's owner.
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    task_id = as_user("manager").post("/api/tasks", json={
        "contact_id": contact.id, "title": "Quote", "due_at": "2030-01-15T09:30:00Z",
        "assignee_id": users["agent2"].id}).get_json()["id"]
    drain(*listeners.values())

    as_user("manager").patch(f"/api/contacts/{contact.id}", json={"assigned_user_id": users["manager"].id})
    assert heard(listeners) == {"admin": {"task.updated": [task_id]}, "manager": {"task.updated": [task_id]},
                                "agent": {"task.deleted": [task_id]}, "agent2": {"task.updated": [task_id]},
                                "outsider": {}}
    assert as_user("agent").get(f"/api/tasks/{task_id}").status_code == 404  # what the event told their page


def test_a_workflows_assign_step_moves_the_contacts_tasks_too(app, account, users, listeners):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    wf = make_workflow(account, ADD_TASK)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    task_id = db.session.scalar(select(Task.id))
    reassign = make_workflow(account, {"name": "Hand over", "start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent2"].id]}, "next": None}}})
    enroll.create_request(reassign, reassign.published_version, [contact.id], is_test=False)
    drain(*listeners.values())

    run_jobs(app)
    # The task stays the agent's (its assignee): agent2 now sees it as the contact's new owner.
    got = heard(listeners)
    assert got["agent2"] == {"task.updated": [task_id]} and got["agent"] == {"task.updated": [task_id]}
    assert got["outsider"] == {}


def test_deleting_a_contact_takes_its_tasks_off_every_list_live(app, account, users, listeners, as_user):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    task_id = as_user("manager").post("/api/tasks", json={
        "contact_id": contact.id, "title": "Quote", "due_at": "2030-01-15T09:30:00Z",
        "assignee_id": users["agent2"].id}).get_json()["id"]
    drain(*listeners.values())

    assert as_user("manager").delete(f"/api/contacts/{contact.id}").status_code == 204
    assert heard(listeners) == {"admin": {"task.deleted": [task_id]}, "manager": {"task.deleted": [task_id]},
                                "agent": {"task.deleted": [task_id]}, "agent2": {"task.deleted": [task_id]},
                                "outsider": {}}
