"""Goal Event and Wait "until an event" in a real browser: the goal dragged from the palette's Internal Tools
group, its form showing the tag or the field condition as the goal asks, the card summary, a save; a Wait
switched to "until an event" forks into Event happened / Timed out, keeping the step below it on the first."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from builder.extensions import db
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_workflow

EMPTY = {"name": "Goal test", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_a_goal_step_is_built_on_the_canvas_and_saved(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    group = page.locator("#palette .palette-group").filter(
        has=page.locator(".palette-item", has_text=re.compile(r"^Goal Event$")))
    expect(group.locator("h3")).to_have_text("Internal Tools")
    drag(page, palette_item(page, "Goal Event"), page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Goal Event · s1")
    panel.get_by_label("Tag", exact=True).fill("bought")
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Goal: tag “bought” added · else continue")

    # A field condition instead: the tag goes, the condition's fields come.
    panel.get_by_label("Goal", exact=True).select_option(label="Contact field condition")
    expect(panel.get_by_label("Tag", exact=True)).to_have_count(0)
    panel.locator('[data-path="condition.field"] input').fill("contact.email")
    panel.locator('[data-path="condition.op"] select').select_option(label="is not empty")
    panel.get_by_label("If a contact gets here without meeting the goal").select_option(label="Wait until it is met")
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Goal: email is not empty · else wait for it")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    config = stored_graph(workflow_id)["steps"]["s1"]["config"]
    assert config["goal"] == "field_condition" and config["if_not_met"] == "wait"
    assert config["condition"] == {"field": "contact.email", "op": "is_not_empty", "value": None}
    assert "tag" not in config  # the hidden tag is not kept


def test_a_wait_switched_to_an_event_forks_into_its_two_exits(live_server, team, browser):
    graph = {"name": "Wait test", "trigger": {"type": "manual", "config": {}}, "start": "s1", "steps": {
        "s1": {"type": "wait", "config": {"mode": "delay", "amount": 1, "unit": "days"}, "next": "s2"},
        "s2": {"type": "add_tag", "config": {"tag": "after"}, "next": None}}}
    workflow_id = make_workflow(team["account"], graph, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s1").click()
    panel = page.locator("#side-panel")
    panel.get_by_label("Wait", exact=True).select_option(label="Until an event")
    expect(page.locator(".branch-label")).to_have_text(["Event happened", "Timed out"])
    panel.get_by_label("Event", exact=True).select_option(label="Customer replied (SMS)")
    expect(card(page, "s1").locator(".card-summary")).to_have_text(re.compile(r"^Until the contact replies"))
    expect(card(page, "s2")).to_be_visible()  # kept, on Event happened
    panel.get_by_label("Time out after", exact=True).fill("2")
    panel.get_by_label("Unit", exact=True).select_option(label="hours")
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Until the contact replies (up to 2 hours)")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    stored = stored_graph(workflow_id)["steps"]
    assert stored["s1"]["config"]["event_next"] == "s2" and stored["s1"]["next"] is None
    assert stored["s1"]["config"]["event"] == "replied" and stored["s1"]["config"]["timeout_amount"] == 2
