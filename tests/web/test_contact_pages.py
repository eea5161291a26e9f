"""Conversations > Contacts: the list page and a contact's page for each role, and the enroll API's
`filter` behind "select all matching this filter" in Add to Automation."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, Enrollment, User, utcnow
from tests.engine.test_actions import flow
from tests.factories import make_contact, make_workflow, run_jobs

TAG_FLOW = flow({"t": {"type": "add_tag", "config": {"tag": "enrolled"}}})
XSS = "<img src=x onerror=alert(1)>"


def login(client, email: str) -> None:
    resp = client.post("/login", data={"email": email, "password": "correct-horse"})
    assert resp.status_code == 302


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    assert match, "the page has no config block"
    return json.loads(match.group(1))


@pytest.fixture
def outsider(app) -> User:
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    return create_user("boss@other.test", "admin", "correct-horse", "Boss", other)


# --- the list page ------------------------------------------------------------------

def test_pages_need_a_login(client, account):
    contact = make_contact(account)
    for path in ("/contacts", f"/contacts/{contact.id}"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_editors_get_add_to_automation_with_published_workflows_only(client, account, users, role):
    published = make_workflow(account, {**TAG_FLOW, "name": "Welcome"})
    make_workflow(account, {**TAG_FLOW, "name": "Draft only"}, publish=False)
    login(client, f"{role}@acme.test")
    html = client.get("/contacts").get_data(as_text=True)
    assert "<h1>Contacts</h1>" in html and "js/contacts.js" in html
    assert 'id="add-to-automation"' in html and 'id="enroll-dialog"' in html and 'id="select-page"' in html
    config = page_config(html)
    assert config["can_enroll"] is True
    assert config["workflows"] == [{"id": published.id, "name": "Welcome"}]
    assert {u["name"] for u in config["assignees"]} == {"Admin", "Manager", "Agent", "Agent2"}
    assert 'name="assigned_user_id"' in html


def test_agents_get_the_list_without_enrolling_or_other_peoples_tags(client, account, users):
    make_workflow(account, TAG_FLOW)
    make_contact(account, assigned_user_id=users["agent"].id, tags=["mine"])
    make_contact(account, phone="+14155551001", assigned_user_id=users["agent2"].id, tags=["theirs"])
    login(client, "agent@acme.test")
    html = client.get("/contacts").get_data(as_text=True)
    config = page_config(html)
    assert config["can_enroll"] is False and config["workflows"] == [] and config["assignees"] == []
    assert config["tags"] == ["mine"]
    assert 'id="add-to-automation"' not in html and 'id="enroll-dialog"' not in html
    assert 'name="assigned_user_id"' not in html


def test_contacts_sit_under_conversations_in_the_nav(client, account, users):
    login(client, "agent@acme.test")
    html = client.get("/contacts").get_data(as_text=True)
    group = re.search(r'<div class="nav-group is-current">\s*<span class="nav-group-label">Conversations</span>'
                      r'(.*?)</div>', html, re.S)
    assert group, "Conversations is the current nav group"
    assert re.search(r'<a href="/contacts"\s+aria-current="page">Contacts</a>', group.group(1))
    assert 'href="/contacts"' in client.get("/").get_data(as_text=True)


# --- a contact's page ------------------------------------------------------------------

def test_a_contact_page_for_a_manager(client, account, users):
    contact = make_contact(account, first_name="Grace", last_name="Hopper", assigned_user_id=users["agent"].id)
    login(client, "manager@acme.test")
    resp = client.get(f"/contacts/{contact.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<h1 id="contact-title">Grace Hopper</h1>' in html and "js/contact.js" in html
    assert 'id="dnd-sms"' in html and 'id="dnd-call"' in html and 'id="composer"' in html
    config = page_config(html)
    assert config["contact_id"] == contact.id and config["assignee"] == {"id": users["agent"].id, "name": "Agent"}


def test_agents_open_only_their_own_contacts(client, account, users, outsider):
    mine = make_contact(account, assigned_user_id=users["agent"].id)
    theirs = make_contact(account, phone="+14155551001", assigned_user_id=users["agent2"].id)
    gone = make_contact(account, phone="+14155551002", assigned_user_id=users["agent"].id)
    gone.deleted_at = utcnow()
    db.session.commit()
    login(client, "agent@acme.test")
    assert client.get(f"/contacts/{mine.id}").status_code == 200
    for contact_id in (theirs.id, gone.id, 2**40):
        assert client.get(f"/contacts/{contact_id}").status_code == 404
    client.post("/logout")
    login(client, "boss@other.test")
    assert client.get(f"/contacts/{mine.id}").status_code == 404


def test_names_are_escaped(client, account, users):
    contact = make_contact(account, first_name=XSS)
    login(client, "admin@acme.test")
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# --- Add to Automation: enrolling everyone a filter matches -------------------------------------

def enrolled_ids(wf) -> set[int]:
    return set(db.session.scalars(select(Enrollment.contact_id).where(Enrollment.workflow_id == wf.id)))


@pytest.fixture
def people(account, users, outsider) -> dict:
    other_account = db.session.get(Account, outsider.account_id)
    return {
        "grace": make_contact(account, first_name="Grace", tags=["vip"], assigned_user_id=users["agent"].id),
        "alan": make_contact(account, first_name="Alan", phone="+14155551001", tags=["vip"]),
        "ada": make_contact(account, first_name="Ada", phone="+14155551002", assigned_user_id=users["agent"].id),
        "stranger": make_contact(other_account, first_name="Grace", phone="+14155551003", tags=["vip"]),
    }


@pytest.mark.parametrize(("filters", "expected"), [
    ({"tag": "vip"}, {"grace", "alan"}),
    ({"q": "grace"}, {"grace"}),
    ({"assigned_user_id": "agent"}, {"grace", "ada"}),
    ({"tag": "vip", "assigned_user_id": "agent"}, {"grace"}),
    ({}, {"grace", "alan", "ada"}),
])
def test_a_filter_enrolls_everyone_the_list_shows_with_it(app, as_user, users, people, filters, expected):
    wf = make_workflow(db.session.get(Account, people["grace"].account_id), TAG_FLOW)
    if "assigned_user_id" in filters:
        filters = {**filters, "assigned_user_id": users[filters["assigned_user_id"]].id}
    manager = as_user("manager")
    listed = manager.get("/api/contacts", query_string={**filters, "per_page": 200}).json
    resp = manager.post(f"/api/workflows/{wf.id}/enroll", json={"filter": filters, "drip": {
        "batch_size": 1, "interval_seconds": 0}})
    assert resp.status_code == 202
    assert resp.json["total"] == listed["total"] == len(expected) and resp.json["batch_size"] == 1
    run_jobs(app)
    assert enrolled_ids(wf) == {people[name].id for name in expected}
    status = manager.get(resp.json["status_url"]).json
    assert status["processed"] == status["enrolled"] == len(expected) and status["finished_at"]


def test_the_filter_or_contact_ids_but_not_both_or_neither(app, as_user, account, people):
    wf = make_workflow(account, TAG_FLOW)
    manager = as_user("manager")
    both = manager.post(f"/api/workflows/{wf.id}/enroll", json={"contact_ids": [people["ada"].id], "filter": {}})
    assert both.status_code == 422 and "filter" in both.json["error"]["fields"]
    neither = manager.post(f"/api/workflows/{wf.id}/enroll", json={"test": False})
    assert neither.status_code == 422 and "contact_ids" in neither.json["error"]["fields"]
    bad = manager.post(f"/api/workflows/{wf.id}/enroll", json={"filter": {"tag": "", "assigned_user_id": "x"}})
    assert bad.status_code == 422
    assert {"filter.tag", "filter.assigned_user_id"} <= set(bad.json["error"]["fields"])
    run_jobs(app)
    assert enrolled_ids(wf) == set()


def test_agents_cannot_add_to_automation(app, as_user, account, people):
    wf = make_workflow(account, TAG_FLOW)
    assert as_user("agent").post(f"/api/workflows/{wf.id}/enroll", json={"filter": {}}).status_code == 403
