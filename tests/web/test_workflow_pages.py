"""Automation > Workflows: the list page and the builder page's frame, for each role."""

from __future__ import annotations

import json
import re

import pytest

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account
from tests.factories import make_contact, make_workflow

GRAPH = {"name": "Welcome", "start": None, "steps": {}}


def login(client, email: str) -> None:
    resp = client.post("/login", data={"email": email, "password": "correct-horse"})
    assert resp.status_code == 302


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    assert match, "the page has no config block"
    return json.loads(match.group(1))


def test_pages_need_a_login(client, account):
    wf = make_workflow(account, GRAPH)
    for path in ("/workflows", f"/workflows/{wf.id}/edit"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "manager", "agent"])
def test_the_list_renders_for_every_role(client, users, role):
    login(client, f"{role}@acme.test")
    resp = client.get("/workflows")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<h1>Workflows</h1>" in html and "js/workflows.js" in html
    assert re.search(r'<a href="/workflows"\s+aria-current="page">Workflows</a>', html)  # Automation > Workflows
    config = page_config(html)
    editor = role != "agent"
    assert config["can_edit"] is editor and config["me"]["role"] == role
    assert config["trigger_labels"]["contact_tag_added"] == "Contact tag added"
    assert ('id="create-workflow"' in html) is editor and ('id="delete-dialog"' in html) is editor


def test_the_nav_links_to_the_list_from_every_page(client, users):
    login(client, "agent@acme.test")
    html = client.get("/").get_data(as_text=True)
    assert '<span class="nav-group-label">Automation</span>' in html and 'href="/workflows"' in html


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_editors_open_the_builder_with_its_config(client, account, users, role):
    make_contact(account, custom_fields={"plan": "gold", "signup source": "web"})
    wf = make_workflow(account, GRAPH, publish=False)
    login(client, f"{role}@acme.test")
    resp = client.get(f"/workflows/{wf.id}/edit")
    assert resp.status_code == 200
    config = page_config(resp.get_data(as_text=True))
    assert config["workflow_id"] == wf.id and config["can_edit"] is True
    assert config["me"] == {"id": users[role].id, "name": role.title(), "role": role, "can_see_all": True}
    assert {u["name"] for u in config["users"]} == {"Admin", "Manager", "Agent", "Agent2"}
    assert config["custom_fields"] == ["plan", "signup source"]
    merge = {m["label"]: m["value"] for m in config["merge_fields"]}
    assert merge["First name"] == "contact.first_name"
    assert merge["Engagement score"] == "contact.engagement_score" and merge["Tags"] == "contact.tags | join(', ')"
    assert merge["plan"] == "contact.custom.plan"
    assert merge["signup source"] == 'contact.custom["signup source"]'


def test_the_builder_offers_the_accounts_defined_custom_fields_with_their_labels(client, account, users):
    from builder.domain.custom_fields import create_field

    make_contact(account, custom_fields={"plan": "gold"})  # a stray key: once fields are defined, not offered
    create_field(account.id, {"key": "favourite_colour", "label": "Favourite colour", "type": "text"})
    db.session.commit()
    wf = make_workflow(account, GRAPH, publish=False)
    login(client, "manager@acme.test")
    config = page_config(client.get(f"/workflows/{wf.id}/edit").get_data(as_text=True))
    assert config["custom_fields"] == ["favourite_colour"]
    merge = {m["label"]: m["value"] for m in config["merge_fields"]}
    assert merge["Favourite colour"] == "contact.custom.favourite_colour" and "plan" not in merge


def test_agents_and_other_accounts_cannot_open_the_builder(client, account, users):
    wf = make_workflow(account, GRAPH)
    login(client, "agent@acme.test")
    assert client.get(f"/workflows/{wf.id}/edit").status_code == 403
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    create_user("boss@other.test", "admin", "correct-horse", "Boss", other)
    client.post("/logout")
    login(client, "boss@other.test")
    assert client.get(f"/workflows/{wf.id}/edit").status_code == 404
    assert client.get("/workflows/999999/edit").status_code == 404


def test_names_are_escaped_in_the_builder_frame(client, account, users):
    wf = make_workflow(account, {**GRAPH, "name": "<script>alert(1)</script>"})
    login(client, "admin@acme.test")
    html = client.get(f"/workflows/{wf.id}/edit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
