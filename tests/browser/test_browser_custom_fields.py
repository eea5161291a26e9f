"""Settings > Custom fields in a real browser: an admin defines a field, and the builder tells while typing
which merge fields name nothing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_browser_builder import card, new_workflow, open_builder, panel
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login

GRAPH = {"name": "Greeting", "start": "s1", "steps": {
    "s1": {"type": "send_sms", "config": {"message": "Hello"}, "next": None}}}


def test_a_defined_field_is_known_to_the_builder_while_typing(page: Page, live_server: LiveServer, team, browser):
    login(page, live_server, team["admin"].email, then="/settings/custom-fields")
    expect(page.locator("body")).to_have_attribute("data-settings-loaded", "true")
    page.get_by_label("Label").fill("Favourite colour <b>")
    page.locator("#field-key").fill("favourite_colour")
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("#fields-saved")).to_have_text("Saved Favourite colour <b>.")
    expect(page.locator('#fields-rows tr[data-key="favourite_colour"]')).to_contain_text("Favourite colour <b>")

    workflow_id = new_workflow(team, GRAPH)
    builder = open_builder(browser, live_server, workflow_id, email=team["admin"].email)
    card(builder, "s1").click()
    message = panel(builder).get_by_label("Message", exact=True)
    check = panel(builder).locator("[data-merge-check]")
    message.fill("Hello {{ contact.favorite_color }}")
    expect(check).to_have_text("Unknown merge field contact.favorite_color: use a standard contact field or a "
                               "custom field defined in Settings > Custom fields.")
    message.fill("Hello {{ contact.favourite_colour | default('friend') }}")
    expect(check).to_be_empty()
