"""Internal notifications in a real browser: the header's bell counts a new notification live, lists it as
text with a link to its contact, marks it read; and the action is added from the builder's palette."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Notification, Workflow
from jobqueue import enroll
from tests.browser.test_browser_builder import (
    EMPTY,
    card,
    drag,
    new_workflow,
    open_builder,
    palette_item,
    panel,
    save,
    slot,
    stored_graph,
)
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_contact, make_workflow, run_jobs

XSS = "<img src=x onerror=alert(1)>"


def signed_in(browser, live: LiveServer, email: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    login(page, live, email)
    expect(page.locator("[data-notifications]")).to_have_attribute("data-live", "true")
    return page


def notify(live: LiveServer, team, user_ids: list[int], title: str, *, assigned_to: int | None = None) -> int:
    """A real workflow run notifies these users (the worker's event reaches the page through Redis)."""
    config = {"recipients": "users", "user_ids": user_ids, "title": title,
              "body": "Call {{ contact.first_name }} " + XSS}
    graph = {"name": "Notify", "start": "n", "steps": {"n": {"type": "internal_notification", "config": config}}}
    wf_id = make_workflow(team["account"], graph).id
    contact_id = make_contact(team["account"], first_name="Ada", assigned_user_id=assigned_to).id
    wf = db.session.get(Workflow, wf_id)
    enroll.create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.remove()
    run_jobs(live.app)
    db.session.remove()
    return contact_id


def test_a_new_notification_counts_live_and_is_marked_read_from_the_dropdown(live_server, team, browser):
    page = signed_in(browser, live_server, team["agent"].email)
    count = page.locator("#notif-count")
    expect(count).to_be_hidden()

    contact_id = notify(live_server, team, [team["agent"].id], "New lead: {{ contact.first_name }}",
                        assigned_to=team["agent"].id)
    expect(count).to_have_text("1")  # no reload: the event arrived over Socket.IO
    notify(live_server, team, [team["agent2"].id], "Someone else's")
    page.get_by_role("button", name=re.compile("Notifications")).click()
    items = page.locator("#notif-list .notif-item")
    expect(items).to_have_count(1)
    item = items.first
    expect(item.locator(".notif-title")).to_have_text("New lead: Ada")
    expect(item.locator(".notif-title")).to_have_attribute("href", f"/contacts/{contact_id}")
    expect(item.locator(".notif-body")).to_have_text(f"Call Ada {XSS}")  # what the workflow wrote, as text
    expect(page.locator("#notif-list img")).to_have_count(0)

    item.get_by_role("button", name="Mark read: New lead: Ada").click()
    expect(count).to_be_hidden()
    expect(item).not_to_have_class(re.compile("is-unread"))
    assert db.session.scalars(select(Notification.read_at).where(Notification.user_id == team["agent"].id)).one()
    db.session.remove()

    page.reload()  # the count comes from the server, not only from this page's memory
    expect(page.locator("[data-notifications]")).to_have_attribute("data-live", "true")
    expect(count).to_be_hidden()


def test_mark_all_read_clears_the_count(live_server, team, browser):
    page = signed_in(browser, live_server, team["manager"].email)
    notify(live_server, team, [team["manager"].id], "First")
    notify(live_server, team, [team["manager"].id], "Second")
    count = page.locator("#notif-count")
    expect(count).to_have_text("2")
    page.get_by_role("button", name=re.compile("Notifications")).click()
    expect(page.locator("#notif-list .notif-item.is-unread")).to_have_count(2)
    page.get_by_role("button", name="Mark all read").click()
    expect(count).to_be_hidden()
    expect(page.locator("#notif-list .notif-item.is-unread")).to_have_count(0)
    unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None))).all()
    db.session.remove()
    assert unread == []


def test_the_action_is_dragged_from_the_palette_configured_and_saved(live_server, team, browser):
    workflow_id = new_workflow(team, EMPTY)
    page = open_builder(browser, live_server, workflow_id)
    drag(page, palette_item(page, "Send Internal Notification"), slot(page))
    expect(card(page, "s1")).to_be_visible()
    expect(panel(page)).to_contain_text("Send Internal Notification · s1")
    panel(page).get_by_label("Send to").select_option(label="Everyone with a role")
    panel(page).get_by_label("Role", exact=True).select_option(label="Managers")
    panel(page).get_by_label("Title", exact=True).fill("New lead {{ contact.first_name }}")
    panel(page).get_by_label("Message", exact=True).fill("Call them today")
    panel(page).get_by_role("checkbox", name="Also text it to the user's own phone").check()
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Every manager: New lead {{ contact.first_name }}")
    save(page)
    step = stored_graph(workflow_id)["steps"]["s1"]
    assert step["type"] == "internal_notification"
    config = step["config"]
    assert (config["recipients"], config["role"], config["title"], config["body"], config["text_user"]) == (
        "role", "manager", "New lead {{ contact.first_name }}", "Call them today", True)

    panel(page).get_by_label("Send to").select_option(label="Chosen users")
    expect(panel(page).get_by_label("Role", exact=True)).to_have_count(0)
    panel(page).get_by_role("checkbox", name="Alex Agent").check()
    save(page)
    config = stored_graph(workflow_id)["steps"]["s1"]["config"]
    assert config["recipients"] == "users" and config["user_ids"] == [team["agent"].id]
