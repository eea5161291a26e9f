"""Automation > Workflows in a real browser: create (then the builder), duplicate, delete with confirmation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, Workflow, WorkflowVersion
from jobqueue import enroll
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_contact, make_workflow, run_jobs

LIST = "/workflows"
XSS = "<img src=x onerror=alert(1)>"
WAITING = {
    "name": "Nurture",
    "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
    "start": "pause",
    "steps": {"pause": {"type": "wait", "config": {"amount": 2, "unit": "days"}, "next": None}},
}


def new_page(browser) -> Page:
    return browser.new_context().new_page()


def rows(page: Page):
    return page.locator("#workflows-body tr")


def row(page: Page, name: str):
    return rows(page).filter(has=page.get_by_text(name, exact=True))


def with_contacts_waiting(live: LiveServer, team, graph: dict, count: int) -> int:
    """A published workflow with `count` contacts paused in it."""
    account = team["account"]
    wf = make_workflow(account, graph)
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(count)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    wf_id = wf.id
    run_jobs(live.app)
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return wf_id


def test_create_names_the_workflow_then_opens_the_builder(live_server: LiveServer, team, browser):
    page = new_page(browser)
    login(page, live_server, "manager@acme.test", then=LIST)
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    page.get_by_role("button", name="Create Workflow").click()
    dialog = page.get_by_role("dialog", name="Create a workflow")
    dialog.get_by_role("button", name="Create and open").click()
    expect(dialog.get_by_role("alert")).to_have_text("Give the workflow a name.")
    dialog.get_by_label("Name").fill("New lead follow-up")
    dialog.get_by_role("button", name="Create and open").click()
    page.wait_for_url(re.compile(r"/workflows/\d+/edit$"))

    workflow_id = int(page.url.rsplit("/", 2)[-2])
    graph = db.session.scalar(select(WorkflowVersion.graph).where(WorkflowVersion.workflow_id == workflow_id))
    db.session.remove()
    assert (graph["name"], graph["start"], graph["steps"]) == ("New lead follow-up", None, {})

    page.goto(f"{live_server.url}{LIST}")
    created = row(page, "New lead follow-up")
    expect(created).to_contain_text("Draft")
    expect(created).to_contain_text("by Morgan Manager")
    expect(created.get_by_role("link", name="New lead follow-up")).to_have_attribute(
        "href", f"/workflows/{workflow_id}/edit")


def test_the_list_shows_status_trigger_and_counts(live_server: LiveServer, team, browser):
    with_contacts_waiting(live_server, team, WAITING, 2)
    page = new_page(browser)
    login(page, live_server, "admin@acme.test", then=LIST)
    nurture = row(page, "Nurture")
    expect(nurture).to_contain_text("Published v1")
    expect(nurture).to_contain_text("Contact tag added: new-lead")
    expect(nurture.locator('td[data-label="Active"]')).to_have_text("2")
    expect(nurture.locator('td[data-label="Waiting"]')).to_have_text("2")
    expect(nurture.locator('td[data-label="Completed"]')).to_have_text("0")


def test_duplicate_adds_a_draft_copy(live_server: LiveServer, team, browser):
    make_workflow(team["account"], {**WAITING, "name": XSS})
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "admin@acme.test", then=LIST)
    expect(rows(page)).to_have_count(1)
    page.get_by_role("button", name=f"Duplicate {XSS}").click()
    expect(page.locator("#list-notice")).to_have_text(f"Created “{XSS} (copy)” as a draft.")
    copy = row(page, f"{XSS} (copy)")
    expect(copy).to_contain_text("Draft")
    expect(page.locator("img")).to_have_count(0)  # names are text, never markup


def test_delete_asks_first(live_server: LiveServer, team, browser):
    make_workflow(team["account"], {**WAITING, "name": "Old campaign"}, publish=False)
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "manager@acme.test", then=LIST)
    page.get_by_role("button", name="Delete Old campaign").click()
    dialog = page.get_by_role("dialog", name="Delete this workflow?")
    expect(dialog).to_contain_text("“Old campaign” and its version history will be deleted.")
    expect(dialog.locator("#delete-active")).to_be_hidden()
    dialog.get_by_role("button", name="Cancel").click()
    expect(rows(page)).to_have_count(1)

    page.get_by_role("button", name="Delete Old campaign").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#list-notice")).to_have_text("“Old campaign” is deleted.")
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    assert db.session.scalar(select(Workflow.id)) is None
    db.session.remove()


def test_deleting_with_contacts_in_it_asks_what_happens_to_them(live_server: LiveServer, team, browser):
    cancelled = with_contacts_waiting(live_server, team, {**WAITING, "name": "Cancel me"}, 2)
    finishing = with_contacts_waiting(live_server, team, {**WAITING, "name": "Let them finish"}, 1)
    page = new_page(browser)
    login(page, live_server, "admin@acme.test", then=LIST)
    dialog = page.get_by_role("dialog", name="Delete this workflow?")

    page.get_by_role("button", name="Delete Cancel me").click()
    expect(dialog.locator("#delete-active")).to_contain_text("2 contacts are still in this workflow.")
    dialog.get_by_label(re.compile("Cancel them now")).check()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#list-notice")).to_have_text("“Cancel me” is deleted.")
    expect(row(page, "Cancel me")).to_have_count(0)

    page.get_by_role("button", name="Delete Let them finish").click()
    expect(dialog.locator("#delete-active")).to_contain_text("1 contact is still in this workflow.")
    expect(dialog.get_by_label(re.compile("Let them finish: nobody new"))).to_be_checked()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#list-notice")).to_contain_text("stays running until its 1 remaining contact(s) finish")
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()

    assert db.session.get(Workflow, cancelled) is None
    still_running = db.session.scalars(select(Enrollment.status).where(Enrollment.workflow_id == finishing)).all()
    db.session.remove()
    assert still_running == ["waiting"]


def test_agents_see_the_list_read_only(live_server: LiveServer, team, browser):
    make_workflow(team["account"], WAITING)
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=LIST)
    expect(row(page, "Nurture")).to_contain_text("Published v1")
    expect(page.get_by_role("button", name="Create Workflow")).to_have_count(0)
    expect(page.get_by_role("link", name="Nurture")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete Nurture")).to_have_count(0)
