"""Drip and Wait's time window in a real browser: Drip dragged from the palette's Internal Tools group,
its form filled in, a bad batch size refused on save at its field, the card's summary; a Wait switched to
"Until a time window" shows the days as checkboxes and the hours as time inputs, saved as picked; after live
runs the drip step shows the contacts waiting at it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from builder.extensions import db
from builder.models import Workflow
from jobqueue import enroll
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_contact, make_workflow, run_jobs

EMPTY = {"name": "Drip test", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_drip_and_a_time_window_are_built_saved_and_show_waiting_contacts(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")

    group = page.locator("#palette .palette-group").filter(
        has=page.locator(".palette-item", has_text=re.compile(r"^Drip$")))
    expect(group.locator("h3")).to_have_text("Internal Tools")
    drag(page, palette_item(page, "Drip"), page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Drip · s1")
    batch = panel.locator('[data-path="batch_size"] input')
    batch.fill("0")
    panel.locator('[data-path="interval_amount"] input').fill("2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(panel.locator('[data-path="batch_size"] .field-message')).to_have_text("At least 1.")
    batch.fill("2")
    panel.locator('[data-path="interval_unit"] select').select_option(label="hours")
    expect(card(page, "s1").locator(".card-summary")).to_have_text("2 contacts every 2 hours")

    drag(page, palette_item(page, "Wait"), page.locator('.slot[data-slot-from="s1"]'))
    expect(panel).to_contain_text("Wait · s2")
    panel.locator('[data-path="mode"] select').select_option(label="Until a time window")
    days = panel.locator('[data-path="window_days"] input[type="checkbox"]')
    expect(days).to_have_count(7)
    expect(panel.locator('[data-path="window_days"] label.check')).to_have_text(
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    expect(card(page, "s2").locator(".card-summary")).to_have_text("")  # nothing picked yet
    for day in ("Sat", "Tue", "Wed", "Thu", "Fri"):
        panel.locator('[data-path="window_days"] label.check', has_text=day).locator("input").check()
    panel.locator('[data-path="window_start"] input[type="time"]').fill("08:30")
    panel.locator('[data-path="window_end"] input[type="time"]').fill("17:00")
    expect(card(page, "s2").locator(".card-summary")).to_have_text("Tue–Sat 08:30–17:00")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    graph = stored_graph(workflow_id)
    assert graph["steps"]["s1"]["config"] == {"batch_size": 2, "interval_amount": 2, "interval_unit": "hours"}
    assert graph["steps"]["s1"]["next"] == "s2"
    assert graph["steps"]["s2"]["config"] == {
        "mode": "window", "unit": "minutes", "window_days": ["tue", "wed", "thu", "fri", "sat"],
        "window_start": "08:30", "window_end": "17:00"}
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#status-badge")).to_have_text(re.compile(r"^Live: v\d+$"))

    wf = db.session.get(Workflow, workflow_id)
    contacts = [make_contact(team["account"]).id for _ in range(5)]
    enroll.create_request(wf, wf.published_version, contacts, is_test=False)
    db.session.commit()
    run_jobs(live_server.app)
    db.session.remove()
    # Two went on at once, three wait for their batches at the drip step.
    expect(card(page, "s1").locator('[data-stat="passed"]')).to_have_text("2 passed")
    expect(card(page, "s1").locator('[data-stat="waiting"]')).to_contain_text("3")
