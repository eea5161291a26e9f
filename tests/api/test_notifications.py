"""/api/notifications: each user lists and marks only their own notifications (made by real workflow runs)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.models import Notification
from jobqueue.enroll import create_request
from tests.factories import ApiClient, make_contact, make_outsider, make_workflow, run_jobs


def notify(app, account, user_ids: list[int], title: str, contact=None) -> list[int]:
    """Run a workflow that notifies these users about `contact` (a new one by default); the new ids."""
    graph = {"name": "Notify", "start": "n", "steps": {"n": {"type": "internal_notification", "config": {
        "recipients": "users", "user_ids": user_ids, "title": title, "body": "About {{ contact.first_name }}"}}}}
    wf = make_workflow(account, graph)
    contact = contact or make_contact(account, first_name="Ada")
    before = set(db.session.scalars(select(Notification.id)))
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return sorted(set(db.session.scalars(select(Notification.id))) - before)


@pytest.fixture
def api(client, users):
    return {role: ApiClient(client, user) for role, user in users.items()}


@pytest.mark.parametrize("role", ["admin", "manager", "agent"])
def test_every_role_lists_only_their_own_newest_first(app, account, users, api, role):
    mine = users[role]
    other = users["agent2"] if role != "agent2" else users["agent"]
    notify(app, account, [mine.id, other.id], "For both")
    notify(app, account, [other.id], "Not for you")
    notify(app, account, [mine.id], "Second for you")
    res = api[role].get("/api/notifications")
    assert res.status_code == 200
    body = res.json
    assert [n["title"] for n in body["items"]] == ["Second for you", "For both"]
    assert (body["total"], body["unread"], body["page"], body["per_page"]) == (2, 2, 1, 50)
    item = body["items"][0]
    assert set(item) == {"id", "title", "body", "contact", "workflow_id", "is_test", "created_at", "read_at"}
    assert item["body"] == "About Ada" and item["read_at"] is None and item["created_at"].endswith("+00:00")


def test_the_contact_is_linked_only_for_a_reader_who_may_see_it(app, account, users, api):
    theirs = make_contact(account, first_name="Bo", assigned_user_id=users["agent2"].id)
    notify(app, account, [users["agent"].id, users["manager"].id], "About Bo", contact=theirs)
    [agent_view] = api["agent"].get("/api/notifications").json["items"]
    [manager_view] = api["manager"].get("/api/notifications").json["items"]
    assert agent_view["contact"] is None  # not theirs: the agent could not open it
    assert manager_view["contact"] == {"id": theirs.id, "name": "Bo"}


def test_paging_and_the_unread_filter(app, account, users, api):
    ids = [notify(app, account, [users["agent"].id], f"N{i}")[0] for i in range(3)]
    assert api["agent"].post(f"/api/notifications/{ids[0]}/read").status_code == 200
    page = api["agent"].get("/api/notifications?per_page=2&page=2").json
    assert [n["id"] for n in page["items"]] == [ids[0]] and page["total"] == 3 and page["unread"] == 2
    unread = api["agent"].get("/api/notifications?unread=true").json
    assert [n["id"] for n in unread["items"]] == [ids[2], ids[1]] and unread["total"] == 2
    bad = api["agent"].get("/api/notifications?per_page=500")
    assert bad.status_code == 422 and "per_page" in bad.json["error"]["fields"]


def test_mark_one_read(app, account, users, api):
    [first] = notify(app, account, [users["agent"].id], "Read me")
    [second] = notify(app, account, [users["agent"].id], "Leave me")
    res = api["agent"].post(f"/api/notifications/{first}/read")
    assert res.status_code == 200 and res.json["id"] == first and res.json["read_at"]
    read_at = res.json["read_at"]
    again = api["agent"].post(f"/api/notifications/{first}/read")  # already read: keeps its first read time
    assert again.status_code == 200 and again.json["read_at"] == read_at
    assert db.session.get(Notification, second).read_at is None
    assert api["agent"].get("/api/notifications").json["unread"] == 1


@pytest.mark.parametrize("caller", ["agent2", "manager", "admin", "outsider"])
def test_another_users_notification_is_not_found(app, account, users, client, caller):
    [theirs] = notify(app, account, [users["agent"].id], "Private")
    user = users.get(caller) or make_outsider("admin")
    res = ApiClient(client, user).post(f"/api/notifications/{theirs}/read")
    assert res.status_code == 404 and res.json["error"]["code"] == "not_found"
    assert db.session.get(Notification, theirs).read_at is None


@pytest.mark.parametrize("notification_id", [0, 2**31, 999999])
def test_ids_that_name_nothing_are_not_found(app, api, notification_id):
    assert api["agent"].post(f"/api/notifications/{notification_id}/read").status_code == 404


def test_read_all_marks_only_ones_own(app, account, users, api):
    notify(app, account, [users["agent"].id, users["agent2"].id], "One")
    notify(app, account, [users["agent"].id], "Two")
    res = api["agent"].post("/api/notifications/read-all")
    assert res.status_code == 200 and res.json == {"marked": 2, "unread": 0}
    assert api["agent"].get("/api/notifications?unread=true").json["total"] == 0
    assert api["agent2"].get("/api/notifications").json["unread"] == 1
    assert api["agent"].post("/api/notifications/read-all").json == {"marked": 0, "unread": 0}


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/notifications").status_code == 401
    assert client.post("/api/notifications/read-all").status_code == 401


def test_a_session_write_needs_the_csrf_token(app, account, users):
    [mine] = notify(app, account, [users["agent"].id], "Session")
    browser = app.test_client()
    browser.post("/login", data={"email": "agent@acme.test", "password": "correct-horse"})
    assert browser.post(f"/api/notifications/{mine}/read").status_code == 400
    page = browser.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    assert browser.post(f"/api/notifications/{mine}/read", headers={"X-CSRFToken": token}).status_code == 200


def test_the_bell_is_in_every_signed_in_page(app, users):
    browser = app.test_client()
    assert 'id="notif-bell"' not in browser.get("/login").get_data(as_text=True)  # signed out: no bell
    browser.post("/login", data={"email": "agent@acme.test", "password": "correct-horse"})
    page = browser.get("/").get_data(as_text=True)
    assert 'id="notif-bell"' in page and "js/notifications.js" in page


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get"} <= set(paths["/api/notifications"])
    assert "post" in paths["/api/notifications/{notification_id}/read"]
    assert "post" in paths["/api/notifications/read-all"]
