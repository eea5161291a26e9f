"""Tasks API: adding (and who may be given one), the role rules, the due filters in the viewer's time zone,
completing and reopening, editing, deleting, and the dashboard's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import Task, utcnow
from tests.factories import ApiClient, make_contact, make_outsider

ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Asia/Kolkata"]


def iso(when: datetime) -> str:
    return when.replace(tzinfo=UTC).isoformat()


def add_task(contact, assignee, *, title="Call back", due_at=None, status="open", **fields) -> Task:
    task = Task(account_id=contact.account_id, contact_id=contact.id, title=title,
                assignee_id=assignee.id if assignee else None, due_at=due_at or utcnow() + timedelta(days=1),
                status=status, **fields)
    db.session.add(task)
    db.session.commit()
    return task


def listed(api, query: str = "") -> list[str]:
    response = api.get(f"/api/tasks?per_page=200{'&' if query else ''}{query}")
    assert response.status_code == 200, response.get_json()
    return [row["title"] for row in response.get_json()["items"]]


@pytest.fixture
def three(account, users) -> dict[str, Task]:
    """A: the agent's, on their contact. B: agent B's, on the agent's contact. C: the manager's, on agent B's."""
    mine = make_contact(account, first_name="Ada", assigned_user_id=users["agent"].id)
    theirs = make_contact(account, first_name="Bo", assigned_user_id=users["agent2"].id)
    return {"A": add_task(mine, users["agent"], title="A", due_at=utcnow() + timedelta(hours=1)),
            "B": add_task(mine, users["agent2"], title="B", due_at=utcnow() + timedelta(hours=2)),
            "C": add_task(theirs, users["manager"], title="C", due_at=utcnow() + timedelta(hours=3))}


# --- adding -------------------------------------------------------------------------------------

def test_an_agent_adds_a_task_for_themselves_about_their_contact(as_user, account, users):
    contact = make_contact(account, first_name="Ada", assigned_user_id=users["agent"].id)
    response = as_user("agent").post("/api/tasks", json={
        "contact_id": contact.id, "title": "  Send the quote ", "body": "Gold plan,\nannual",
        "due_at": "2030-01-15T09:30:00-05:00"})
    assert response.status_code == 201, response.get_json()
    task = response.get_json()
    assert (task["title"], task["body"], task["status"]) == ("Send the quote", "Gold plan,\nannual", "open")
    assert task["due_at"] == "2030-01-15T14:30:00+00:00" and task["overdue"] is False
    assert (task["assignee_id"], task["created_by_id"], task["contact_name"]) == (users["agent"].id,
                                                                                 users["agent"].id, "Ada")
    assert task["workflow_id"] is None and task["completed_at"] is None
    stored = db.session.get(Task, task["id"])
    assert stored.due_at == datetime(2030, 1, 15, 14, 30) and stored.account_id == account.id


@pytest.mark.parametrize("body, field", [
    ({"assignee_id": "manager"}, "assignee_id"),  # agents give tasks to themselves only
    ({"assignee_id": None}, "assignee_id"),
    ({"contact": "other"}, "contact_id"),  # a contact they may not see
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"due_at": None}, "due_at"),
    ({"due_at": "tomorrow"}, "due_at"),
])
def test_an_agents_bad_task_is_refused_naming_the_field(as_user, account, users, body, field):
    mine = make_contact(account, assigned_user_id=users["agent"].id)
    other = make_contact(account, assigned_user_id=users["agent2"].id)
    data = {"contact_id": mine.id, "title": "Call", "due_at": "2030-01-15T09:30:00Z"}
    if body.get("assignee_id") == "manager":
        body = {"assignee_id": users["manager"].id}
    if body.get("contact") == "other":
        body = {"contact_id": other.id}
    data.update(body)
    data = {k: v for k, v in data.items() if not (k == "due_at" and v is None)}
    response = as_user("agent").post("/api/tasks", json=data)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(Task.id)) is None


def test_a_manager_gives_a_task_to_anyone_active_in_the_account(as_user, account, users):
    contact = make_contact(account, assigned_user_id=users["agent2"].id)
    manager = as_user("manager")
    body = {"contact_id": contact.id, "title": "Review", "due_at": "2030-01-15T09:30:00Z"}
    response = manager.post("/api/tasks", json={**body, "assignee_id": users["agent"].id})
    assert response.status_code == 201 and response.get_json()["assignee_id"] == users["agent"].id
    assert manager.post("/api/tasks", json={**body, "assignee_id": None}).get_json()["assignee_id"] is None
    users["agent2"].active = False
    stranger = make_outsider("agent", "stranger@other.test")
    db.session.commit()
    for user_id in (users["agent2"].id, stranger.id):
        refused = manager.post("/api/tasks", json={**body, "assignee_id": user_id})
        assert refused.status_code == 422
        assert refused.get_json()["error"]["fields"] == {"assignee_id": [f"No active user {user_id} in this account."]}


# --- who sees what ------------------------------------------------------------------------------------

def test_agents_see_their_own_tasks_and_their_contacts_managers_everyones(app, as_user, three):
    assert listed(as_user("agent")) == ["A", "B"]
    assert listed(as_user("agent2")) == ["B", "C"]
    assert listed(as_user("manager")) == ["A", "B", "C"]
    assert listed(as_user("admin")) == ["A", "B", "C"]
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    assert listed(outsider) == []
    assert outsider.get(f"/api/tasks/{three['A'].id}").status_code == 404


@pytest.mark.parametrize("method, path, body", [
    ("get", "", None), ("patch", "", {"title": "Mine now"}), ("delete", "", None),
    ("post", "/complete", None), ("post", "/reopen", None)])
def test_another_agents_task_is_a_404_for_every_verb(as_user, three, method, path, body):
    task_id = three["A"].id  # agent A's, on agent A's contact: nothing to do with agent B
    kwargs = {"json": body} if body is not None else {}
    response = getattr(as_user("agent2"), method)(f"/api/tasks/{task_id}{path}", **kwargs)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert (task.title, task.status, task.deleted_at) == ("A", "open", None)


def test_a_deleted_contacts_tasks_are_seen_by_nobody(as_user, three):
    contact = three["A"].contact
    contact.deleted_at = utcnow()
    db.session.commit()
    assert listed(as_user("manager")) == ["C"]
    assert as_user("manager").get(f"/api/tasks/{three['A'].id}").status_code == 404


def test_filters_by_assignee_contact_and_status(as_user, users, three):
    manager = as_user("manager")
    assert listed(manager, f"assignee_id={users['agent2'].id}") == ["B"]
    assert listed(manager, f"contact_id={three['A'].contact_id}") == ["A", "B"]
    assert manager.post(f"/api/tasks/{three['B'].id}/complete").status_code == 200
    assert listed(manager, "status=open") == ["A", "C"]
    assert listed(manager, "status=completed") == ["B"]
    assert listed(manager) == ["A", "C", "B"]  # open first, then completed


@pytest.mark.parametrize("query, field", [("due=later", "due"), ("tz=Mars/Olympus", "tz"), ("status=gone", "status"),
                                          ("assignee_id=0", "assignee_id")])
def test_bad_filters_are_refused(as_user, query, field):
    response = as_user("manager").get(f"/api/tasks?{query}")
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_due_filters_follow_the_viewers_time_zone(as_user, account, users):
    """Tasks every 5 hours from 30 hours ago to 30 hours ahead: "today" and "upcoming" are the viewer's own
    calendar days, "overdue" is open and past, wherever the viewer is."""
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    now = utcnow()
    for k in range(-6, 7):
        due = now + timedelta(hours=5 * k, minutes=7)
        add_task(contact, users["agent"], title=f"t{k}", due_at=due)
    add_task(contact, users["agent"], title="done", due_at=now - timedelta(hours=1), status="completed",
             completed_at=now)
    agent = as_user("agent")
    titles = {t.title: t.due_at for t in db.session.scalars(select(Task))}

    def local_day(when: datetime, zone: str):
        return when.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()

    assert set(listed(agent, "due=overdue")) == {f"t{k}" for k in range(-6, 0)}
    for zone in ZONES:
        today = local_day(now, zone)
        expected_today = {t for t, due in titles.items() if local_day(due, zone) == today}
        expected_later = {t for t, due in titles.items() if local_day(due, zone) > today}
        assert set(listed(agent, f"due=today&tz={zone}")) == expected_today, zone
        assert set(listed(agent, f"due=upcoming&tz={zone}")) == expected_later, zone
        assert expected_later and expected_today - {"done"}, zone  # the spread covers both, everywhere
    # Viewers about 18 hours apart: their days start about 6 or 18 hours apart, so "today" holds other tasks for each.
    assert set(listed(agent, "due=today&tz=Pacific/Auckland")) != set(listed(agent, "due=today&tz=America/New_York"))


def test_upcoming_and_today_list_soonest_first(as_user, account, users):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    now = utcnow()
    for title, hours in (("later", 50), ("sooner", 30), ("soonest", 26)):
        add_task(contact, users["agent"], title=title, due_at=now + timedelta(hours=hours))
    assert listed(as_user("agent"), "due=upcoming&tz=UTC") == ["soonest", "sooner", "later"]


# --- working a task --------------------------------------------------------------------------------------

def test_complete_and_reopen(as_user, users, three):
    agent = as_user("agent")
    done = agent.post(f"/api/tasks/{three['B'].id}/complete")  # agent B's task on the agent's contact
    assert done.status_code == 200
    row = done.get_json()
    assert row["status"] == "completed" and row["completed_by_id"] == users["agent"].id and row["completed_at"]
    again = as_user("manager").post(f"/api/tasks/{three['B'].id}/complete")
    assert again.status_code == 200 and again.get_json()["completed_by_id"] == users["agent"].id  # unchanged
    assert again.get_json()["completed_at"] == row["completed_at"]
    reopened = as_user("agent2").post(f"/api/tasks/{three['B'].id}/reopen")
    assert reopened.status_code == 200
    assert (reopened.get_json()["status"], reopened.get_json()["completed_at"],
            reopened.get_json()["completed_by_id"]) == ("open", None, None)
    assert as_user("agent2").post(f"/api/tasks/{three['B'].id}/reopen").get_json()["status"] == "open"


def test_an_overdue_task_says_so_until_it_is_completed(as_user, account, users):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    task = add_task(contact, users["agent"], due_at=utcnow() - timedelta(minutes=5))
    agent = as_user("agent")
    assert agent.get(f"/api/tasks/{task.id}").get_json()["overdue"] is True
    assert agent.post(f"/api/tasks/{task.id}/complete").get_json()["overdue"] is False


def test_editing_a_task(as_user, users, three):
    agent = as_user("agent")
    response = agent.patch(f"/api/tasks/{three['A'].id}", json={
        "title": "Call at noon", "body": "Ask for Bo", "due_at": "2030-02-01T12:00:00+01:00"})
    assert response.status_code == 200, response.get_json()
    row = response.get_json()
    assert (row["title"], row["body"], row["due_at"]) == ("Call at noon", "Ask for Bo", "2030-02-01T11:00:00+00:00")
    refused = agent.patch(f"/api/tasks/{three['A'].id}", json={"assignee_id": users["agent2"].id})
    assert refused.status_code == 422 and "assignee_id" in refused.get_json()["error"]["fields"]
    assert agent.patch(f"/api/tasks/{three['A'].id}", json={}).status_code == 422
    moved = as_user("manager").patch(f"/api/tasks/{three['A'].id}", json={"assignee_id": users["agent2"].id})
    assert moved.status_code == 200 and moved.get_json()["assignee_id"] == users["agent2"].id
    # Agent A still sees it: it is about their contact.
    assert agent.get(f"/api/tasks/{three['A'].id}").status_code == 200


def test_deleting_a_task(as_user, three):
    agent = as_user("agent")
    assert agent.delete(f"/api/tasks/{three['A'].id}").status_code == 204
    assert agent.get(f"/api/tasks/{three['A'].id}").status_code == 404
    assert listed(as_user("manager")) == ["B", "C"]
    assert agent.delete(f"/api/tasks/{three['A'].id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Task, three["A"].id).deleted_at is not None


def test_the_dashboard_counts_what_the_viewer_sees(as_user, account, users, three):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    add_task(contact, users["agent"], title="late", due_at=utcnow() - timedelta(hours=1))
    add_task(contact, users["agent"], title="test run's", due_at=utcnow() - timedelta(hours=1), is_test=True)
    as_user("manager").post(f"/api/tasks/{three['B'].id}/complete")
    assert as_user("agent").get("/api/tasks/counts").get_json() == {"open": 2, "overdue": 1}
    assert as_user("agent2").get("/api/tasks/counts").get_json() == {"open": 1, "overdue": 0}
    assert as_user("manager").get("/api/tasks/counts").get_json() == {"open": 3, "overdue": 1}


def test_the_api_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    assert {"/api/tasks", "/api/tasks/counts", "/api/tasks/{task_id}", "/api/tasks/{task_id}/complete",
            "/api/tasks/{task_id}/reopen"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/tasks/{task_id}"]) >= {"get", "patch", "delete"}
