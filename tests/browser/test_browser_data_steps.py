"""Text Formatter and Math Operation in a real browser: dragged from the palette's Internal Tools, their forms
filled in (fields shown for the chosen operation only), the cards summarise them, a server-side error lands on
its field, and the workflow saves."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from builder.extensions import db
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_workflow

EMPTY = {"name": "Data", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def slot(page: Page, after: str | None = None) -> Locator:
    if after is None:
        return page.locator(".slot[data-slot-start]")
    return page.locator(f'.slot[data-slot-from="{after}"][data-slot-exit="next"]')


def panel(page: Page) -> Locator:
    return page.locator("#side-panel")


def test_both_types_are_dragged_from_the_palette_filled_in_and_saved(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    drag(page, palette_item(page, "Text Formatter"), slot(page))
    expect(panel(page)).to_contain_text("Text Formatter · s1")
    panel(page).get_by_label("Operation").select_option(label="Split and take a part")
    expect(panel(page).get_by_label("Separator", exact=True)).to_be_visible()
    expect(panel(page).get_by_label("Date format")).to_be_hidden()
    panel(page).get_by_label("Text", exact=True).fill("{{ contact.custom.order }}")
    panel(page).get_by_label("Separator", exact=True).fill("/")
    panel(page).get_by_label("Part", exact=True).fill("-1")
    expect(card(page, "s1")).to_contain_text("Split and take a part of {{ contact.custom.order }}")

    drag(page, palette_item(page, "Math Operation"), slot(page, "s1"))
    expect(panel(page)).to_contain_text("Math Operation · s2")
    panel(page).get_by_label("Operation").select_option(label="Divide")
    panel(page).get_by_label("Value", exact=True).fill("{{ steps.s1.value }}")
    panel(page).get_by_label("Also save to contact field").fill("custom.share")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(panel(page).locator('[data-path="operand"] .field-message')).to_contain_text("Give the number to divide by")

    panel(page).get_by_label("Second number", exact=True).fill("4")
    expect(card(page, "s2")).to_contain_text("{{ steps.s1.value }} ÷ 4 → custom.share")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")

    steps = stored_graph(workflow_id)["steps"]
    assert steps["s1"]["type"] == "text_formatter" and steps["s1"]["next"] == "s2"
    assert {k: steps["s1"]["config"][k] for k in ("operation", "text", "separator", "part")} == {
        "operation": "split", "text": "{{ contact.custom.order }}", "separator": "/", "part": -1}
    assert steps["s2"]["type"] == "math_operation"
    assert {k: steps["s2"]["config"][k] for k in ("operation", "value", "operand", "save_to")} == {
        "operation": "divide", "value": "{{ steps.s1.value }}", "operand": "4", "save_to": "custom.share"}
