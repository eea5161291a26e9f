"""Tasks in a real browser: the Tasks page (complete and reopen, followed live in a second browser), adding a
task, a contact's tasks on their page, the dashboard widget, and the Add Task step built in the builder.

The app is served on a free port with the Socket.IO message queue on the test Redis; RQ jobs run
in-process (run_jobs), so a worker's events reach the pages as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Task, utcnow
from jobqueue import enroll
from tests.browser.test_browser_builder import (
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
from tests.browser_support import LiveServer, login, wait_watching
from tests.factories import make_contact, make_workflow, run_jobs

XSS = "<img src=x onerror=alert(1)>"
EMPTY = {"name": "Task flow", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def new_page(browser) -> Page:
    return browser.new_context().new_page()


def rows(page: Page):
    return page.locator("#tasks-body tr")


def filters(page: Page):
    return page.locator("#task-filters")


def wait_live(page: Page) -> None:
    expect(page.locator("[data-live-status]").first).to_have_text("Live")


def seed(team, *titles: str, hours: float = 2) -> dict[str, int]:
    """Grace (agent A's contact) and a task of agent A's about her per title, due in `hours`."""
    contact = make_contact(team["account"], first_name="Grace", last_name="Hopper", assigned_user_id=team["agent"].id)
    ids = {"contact": contact.id}
    for title in titles:
        task = Task(account_id=team["account"].id, contact_id=contact.id, title=title, body=f"About {title}",
                    assignee_id=team["agent"].id, due_at=utcnow() + timedelta(hours=hours))
        db.session.add(task)
        db.session.commit()
        ids[title] = task.id
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return ids


def test_completing_on_the_tasks_page_updates_another_browser_live(live_server, team, browser):
    seed(team, "Call Grace", f"Quote {XSS}")
    agent = new_page(browser)
    login(agent, live_server, team["agent"].email, then="/tasks")
    manager = new_page(browser)
    login(manager, live_server, team["manager"].email, then="/tasks")
    for page in (agent, manager):
        expect(rows(page)).to_have_count(2)
        wait_live(page)
    # What people wrote is shown as text.
    expect(rows(agent).filter(has_text=f"Quote {XSS}")).to_have_count(1)
    expect(agent.locator("#tasks-body img")).to_have_count(0)
    manager.evaluate("window.__notReloaded = true")

    rows(agent).filter(has_text="Call Grace").get_by_role("button", name="Complete").click()
    expect(rows(agent)).to_have_count(1)
    expect(rows(manager)).to_have_count(1)  # live, without a reload
    expect(rows(manager).filter(has_text="Call Grace")).to_have_count(0)
    assert manager.evaluate("window.__notReloaded") is True

    filters(manager).get_by_label("Status").select_option(label="Completed")
    done = rows(manager).filter(has_text="Call Grace")
    expect(done).to_contain_text("Completed")
    done.get_by_role("button", name="Reopen").click()
    expect(rows(manager)).to_have_count(0)
    expect(rows(agent)).to_have_count(2)  # back in agent A's open list, live
    task = db.session.scalar(select(Task).where(Task.title == "Call Grace"))
    assert task.status == "open" and task.completed_at is None
    db.session.remove()


def test_a_task_added_from_the_tasks_page_reaches_its_agent_live(live_server, team, browser):
    ids = seed(team)
    agent = new_page(browser)
    login(agent, live_server, team["agent"].email, then="/tasks")
    expect(agent.get_by_role("heading", name="No tasks")).to_be_visible()
    wait_live(agent)

    manager = new_page(browser)
    login(manager, live_server, team["manager"].email, then="/tasks")
    manager.get_by_role("button", name="New task").click()
    dialog = manager.locator("#task-dialog")
    dialog.get_by_label("Contact").fill("Grace")
    expect(dialog.locator("#task-contact-options option")).to_have_count(1)
    dialog.get_by_label("Contact").fill(f"Grace Hopper · +14155551000 (#{ids['contact']})")
    dialog.get_by_label("Title").fill("Send the contract")
    dialog.get_by_label("Description").fill("Two copies")
    dialog.get_by_label("Due").fill("2030-01-15T09:30")
    dialog.get_by_label("Assigned to").select_option(label="Alex Agent")
    dialog.get_by_role("button", name="Save task").click()
    expect(dialog).to_be_hidden()

    expect(rows(manager).filter(has_text="Send the contract")).to_contain_text("Alex Agent")
    expect(rows(agent)).to_have_count(1)
    expect(rows(agent).first).to_contain_text("Send the contract")
    expect(rows(agent).first).to_contain_text("Grace Hopper")
    task = db.session.scalar(select(Task))
    assert (task.title, task.body, task.assignee_id) == ("Send the contract", "Two copies", team["agent"].id)
    db.session.remove()


def test_a_task_needs_a_title_and_a_contact(live_server, team, browser):
    seed(team)
    page = new_page(browser)
    login(page, live_server, team["agent"].email, then="/tasks")
    page.get_by_role("button", name="New task").click()
    dialog = page.locator("#task-dialog")
    dialog.get_by_role("button", name="Save task").click()
    expect(dialog.locator("#task-title-error")).to_have_text("Give the task a title.")
    expect(dialog.locator("#task-contact_id-error")).to_have_text("Choose a contact.")
    expect(dialog).to_be_visible()


def test_the_overdue_and_upcoming_filters(live_server, team, browser):
    seed(team, "Late one", hours=-3)
    seed(team, "Next week", hours=24 * 7)
    page = new_page(browser)
    login(page, live_server, team["agent"].email, then="/tasks")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).filter(has_text="Late one")).to_contain_text("Overdue")
    filters(page).get_by_label("Due").select_option(label="Overdue")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Late one")
    assert "due=overdue" in page.url
    filters(page).get_by_label("Due").select_option(label="Upcoming")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Next week")


def test_a_contacts_page_lists_and_adds_their_tasks(live_server, team, browser):
    ids = seed(team, "Call Grace")
    page = new_page(browser)
    login(page, live_server, team["agent"].email, then=f"/contacts/{ids['contact']}")
    wait_watching(page)
    items = page.locator("#contact-tasks li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Call Grace")

    page.get_by_role("button", name="Add task", exact=True).click()
    dialog = page.locator("#contact-task-dialog")
    dialog.get_by_label("Title").fill(f"Follow up {XSS}")
    dialog.get_by_role("button", name="Save task").click()
    expect(dialog).to_be_hidden()
    expect(items).to_have_count(2)
    expect(items.filter(has_text=f"Follow up {XSS}")).to_have_count(1)

    items.filter(has_text="Call Grace").get_by_role("button", name="Complete").click()
    expect(items).to_have_count(1)
    page.get_by_label("Show completed tasks").check()
    expect(items).to_have_count(2)
    expect(items.filter(has_text="Call Grace")).to_contain_text("Completed")


def test_the_dashboard_widget_counts_open_and_overdue_tasks_live(live_server, team, browser):
    seed(team, "Late one", hours=-1)
    seed(team, "Later", hours=5)
    page = new_page(browser)
    login(page, live_server, team["agent"].email)
    widget = page.locator("#tasks-widget")
    expect(widget.locator('[data-task-count="open"]')).to_have_text("2")
    expect(widget.locator('[data-task-count="overdue"]')).to_have_text("1")
    wait_live(page)

    # A workflow adds one more for agent A's contact: the widget follows.
    contact = make_contact(team["account"], first_name="Ada", phone="+14155552200",
                           assigned_user_id=team["agent"].id)
    wf = make_workflow(team["account"], {"name": "Tasks", "start": "t", "steps": {
        "t": {"type": "add_task", "config": {"title": "Welcome {{ contact.first_name }}"}, "next": None}}})
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(live_server.app)
    db.session.remove()
    expect(widget.locator('[data-task-count="open"]')).to_have_text("3")


def test_add_task_is_built_from_the_palette_by_dragging_and_saved(live_server, team, browser):
    workflow_id = new_workflow(team, EMPTY)
    page = open_builder(browser, live_server, workflow_id)
    drag(page, palette_item(page, "Add Task"), slot(page))
    expect(card(page, "s1")).to_be_visible()
    expect(panel(page)).to_contain_text("Add Task · s1")
    panel(page).get_by_label("Task title", exact=True).fill("Call {{ contact.first_name }}")
    panel(page).get_by_label("Description", exact=True).fill("Ask about the plan")
    panel(page).get_by_label("Assign to", exact=True).select_option(label="Chosen users in turn (round-robin)")
    panel(page).get_by_role("checkbox", name="Alex Agent").check()
    panel(page).get_by_role("checkbox", name="Sam Agent").check()
    panel(page).get_by_label("Due", exact=True).select_option(label="At a date and time")
    panel(page).get_by_label("Due at", exact=True).fill("2030-01-15T09:30")
    expect(card(page, "s1")).to_contain_text("Round-robin: Alex Agent, Sam Agent")
    save(page)

    config = stored_graph(workflow_id)["steps"]["s1"]["config"]
    assert config["title"] == "Call {{ contact.first_name }}" and config["body"] == "Ask about the plan"
    assert (config["assign_to"], config["user_ids"]) == ("round_robin", [team["agent"].id, team["agent2"].id])
    assert config["due"] == "at" and config["due_at"].startswith("2030-01-15T09:30")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    expect(card(page, "s1")).to_contain_text("Call {{ contact.first_name }}")


def test_the_tasks_page_needs_login(live_server: LiveServer, team, browser):
    page = new_page(browser)
    page.goto(f"{live_server.url}/tasks")
    expect(page).to_have_url(re.compile("/login"))
