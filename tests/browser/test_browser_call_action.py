"""The Call step in a real browser: dragged from the palette's Communication group, its form filled in and
saved, its two exits (Answered / Not answered) drawn like If/Else's branches; and a test run (console
provider) showing the call's outcome on the canvas."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from builder.extensions import db
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_workflow, run_jobs

EMPTY = {"name": "Calls", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}
CALL_FLOW = {"name": "Call them", "trigger": {"type": "manual", "config": {}}, "start": "c", "steps": {
    "c": {"type": "call", "name": "Call the lead",
          "config": {"connect_to": "number", "number": "+12025550142", "answered_next": "yes",
                     "not_answered_next": "no"}},
    "yes": {"type": "add_tag", "config": {"tag": "answered"}},
    "no": {"type": "add_tag", "config": {"tag": "not-answered"}}}}


def test_call_is_added_from_the_palette_filled_in_saved_and_shows_two_exits(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    group = page.locator("#palette .palette-group").filter(
        has=page.locator(".palette-item", has_text=re.compile(r"^Call$")))
    expect(group.locator("h3")).to_have_text("Communication")
    drag(page, palette_item(page, "Call"), page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Call · s1")
    expect(page.locator(".branch-label")).to_have_text(["Answered", "Not answered"])
    expect(card(page, "s1").locator(".card-summary")).to_have_text(
        "Call the contact, then ring the assigned user · whisper their name")

    number = panel.get_by_label("Phone number", exact=True)
    expect(number).to_be_hidden()  # only when ringing a chosen number
    panel.get_by_label("When they answer, ring").select_option(label="A phone number")
    number.fill("call me maybe")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(panel.locator('[data-path="number"] .field-message')).to_contain_text("international format")
    number.fill("+12025550142")
    panel.get_by_label("Whisper the contact's name first").uncheck()
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Call the contact, then ring +12025550142")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    step = stored_graph(workflow_id)["steps"]["s1"]
    assert step["type"] == "call"
    assert step["config"] == {**step["config"], "connect_to": "number", "number": "+12025550142", "whisper": False}


def test_a_test_run_shows_the_calls_outcome_on_the_canvas(live_server, team, browser):
    workflow_id = make_workflow(team["account"], CALL_FLOW, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")
    expect(page.locator(".branch-label")).to_have_text(["Answered", "Not answered"])

    page.get_by_role("button", name="Test workflow").click()
    test = page.locator("#test-panel")
    test.get_by_text("Create a test contact").click()
    test.get_by_label("First name").fill("Tess")
    test.get_by_label("Phone").fill("+14155551000")
    test.get_by_label("Email").fill("tess@example.com")
    test.get_by_role("button", name="Create test contact").click()
    expect(test.get_by_label("Test contact")).to_have_value(re.compile(r"^\d+$"))
    test.get_by_role("button", name="Run test").click()
    expect(page.locator("#test-status")).to_have_text("Running: steps light up as they run.")
    run_jobs(live_server.app)  # the step, then the call (simulated: answered), then the run goes on

    expect(card(page, "c")).to_have_attribute("data-run-state", "ran")
    expect(card(page, "yes")).to_have_attribute("data-run-state", "ran")
    expect(card(page, "no").locator(".run-badge")).to_be_hidden()
    card(page, "c").click()
    facts = page.locator(".run-details .run-facts")
    expect(facts).to_contain_text("Call outcomeAnswered")
    expect(facts).to_contain_text("Went on becausethe call ended")

    # The call is in the contact's timeline beside their texts, with its outcome.
    contact_id = test.get_by_label("Test contact").input_value()
    page.goto(f"{live_server.url}/contacts/{contact_id}")
    call = page.locator("#timeline li", has_text="Automated call")
    expect(call).to_contain_text("Answered")
    expect(call).to_contain_text("from a workflow")
