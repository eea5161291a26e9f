"""Settings > Custom values in a real browser: an admin adds, edits and deletes a value (the page escapes what
was typed), and Update Custom Value is added from the palette's Internal Tools group, filled in (the merge
menu offers the custom values, an unknown one is pointed out while typing) and saved."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from builder.extensions import db
from builder.models import CustomValue
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_workflow

EMPTY = {"name": "Offers", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_an_admin_adds_edits_and_deletes_a_custom_value(page: Page, live_server: LiveServer, team):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, team["admin"].email, then="/settings/custom-values")
    expect(page.locator("body")).to_have_attribute("data-settings-loaded", "true")
    expect(page.locator("#values-empty")).to_be_visible()

    page.locator("#value-key").fill("Offer")
    page.locator("#value-value").fill("x")
    page.get_by_role("button", name="Add value").click()
    expect(page.locator("#key-error")).to_contain_text("lower-case letters")

    page.locator("#value-key").fill("offer")
    page.locator("#value-value").fill("<b>10% off</b>")
    page.get_by_role("button", name="Add value").click()
    expect(page.locator("#values-saved")).to_have_text("Saved offer.")
    row = page.locator('#values-rows tr[data-key="offer"]')
    expect(row).to_contain_text("<b>10% off</b>")  # shown as typed, never as markup
    expect(row).to_contain_text("{{ custom_values.offer }}")

    page.get_by_role("button", name="Edit offer").click()
    expect(page.locator("#value-key")).to_be_disabled()
    page.locator("#value-value").fill("20% off")
    page.get_by_role("button", name="Save value").click()
    expect(page.locator("#values-saved")).to_have_text("Saved offer.")
    expect(row).to_contain_text("20% off")
    with live_server.app.app_context():
        assert db.session.scalar(db.select(CustomValue.value).where(CustomValue.key == "offer")) == "20% off"
        db.session.remove()

    page.get_by_role("button", name="Delete offer").click()
    expect(page.locator("#values-saved")).to_have_text("Deleted offer.")
    expect(row).to_have_count(0)
    expect(page.locator("#values-empty")).to_be_visible()


def test_update_custom_value_is_added_from_the_palette_filled_in_and_saved(live_server, team, browser):
    db.session.add(CustomValue(account_id=team["account"].id, key="offer", value="10% off"))
    db.session.add(CustomValue(account_id=team["account"].id, key="promo_code", value="SPRING"))
    db.session.commit()
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    item = palette_item(page, "Update Custom Value")
    expect(item).to_be_visible()
    group = page.locator("#palette .palette-group",
                         has=page.locator(".palette-item", has_text=re.compile(r"^Update Custom Value$")))
    expect(group).to_contain_text("Internal Tools")
    drag(page, item, page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Update Custom Value · s1")
    expect(card(page, "s1")).to_contain_text("No custom value chosen")

    key = panel.get_by_label("Custom value", exact=True)
    expect(panel.locator(f"#{key.get_attribute('list')} option[value='offer']")).to_have_count(1)
    key.fill("offer")
    new_value = panel.get_by_label("New value", exact=True)
    new_value.fill("{{ custom_values.promo }}")  # told while typing, as the save would say
    expect(panel.locator("[data-merge-check]")).to_have_text(
        "Unknown custom value custom_values.promo: define it in Settings > Custom values first.")
    new_value.fill("Code ")
    panel.get_by_role("button", name="Insert a merge field into New value").click()
    panel.get_by_role("menuitem", name="Custom value: promo_code").click()
    expect(card(page, "s1")).to_contain_text("Set offer to Code {{ custom_values.promo_code }}")
    expect(panel.locator("[data-merge-check]")).to_be_empty()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    step = stored_graph(workflow_id)["steps"]["s1"]
    assert step["type"] == "update_custom_value"
    assert step["config"] == {"key": "offer", "value": "Code {{ custom_values.promo_code }}"}
