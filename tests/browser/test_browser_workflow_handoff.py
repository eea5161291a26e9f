"""Add to Workflow in a real browser: the side panel's workflow picker lists the account's other published
workflows (not this one, not drafts); the choice is saved and summed up on the card. Remove from Workflow's
"Chosen workflows" shows a picker of the account's other workflows."""

from __future__ import annotations

from playwright.sync_api import expect

from builder.extensions import db
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_workflow


def empty(name):
    return {"name": name, "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_choosing_the_target_workflow_in_the_side_panel(live_server, team, browser):
    account = team["account"]
    this = make_workflow(account, empty("Handing on"), publish=False).id
    live = make_workflow(account, {**empty("Onboarding"), "start": "t",
                                   "steps": {"t": {"type": "add_tag", "config": {"tag": "x"}}}}).id
    draft = make_workflow(account, empty("Draft only"), publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, this)

    drag(page, palette_item(page, "Add to Workflow"), page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Add to Workflow · s1")
    picker = panel.get_by_label("Workflow", exact=True)
    options = picker.locator("option")
    expect(options).to_have_text(["Choose a workflow…", "Onboarding"])  # published, and not this one
    expect(card(page, "s1").locator(".card-summary")).to_have_text("No workflow chosen")
    picker.select_option(label="Onboarding")
    panel.get_by_label("End this workflow after adding").check()
    expect(card(page, "s1").locator(".card-summary")).to_have_text(f"Add to workflow {live} · then end this one")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    assert stored_graph(this)["steps"]["s1"]["config"] == {"workflow_id": live, "end_this_workflow": True}

    drag(page, palette_item(page, "Remove from Workflow"), page.locator('.slot[data-slot-from="s1"]'))
    expect(panel).to_contain_text("Remove from Workflow · s2")
    panel.get_by_label("Remove the contact from").select_option(label="Chosen workflows")
    several = panel.locator('select[data-workflow-picker="workflows"]')
    expect(several.locator("option")).to_have_text(["Draft only", "Onboarding"])  # newest first
    several.select_option([str(draft)])
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    assert stored_graph(this)["steps"]["s2"]["config"] == {"target": "chosen", "workflow_ids": [draft]}
    db.session.remove()
