"""Webhook and Send Slack Message in a real browser: dragged from the palette, filled in and saved;
a bad URL lands on its field; Settings > Integrations shows and rotates the secret and keeps the
Slack URL masked."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from builder.extensions import db
from builder.integrations import outbound
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_workflow

EMPTY = {"name": "Hooks", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}
SLACK = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"


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

    expect(page.locator("#palette")).to_contain_text("Send Data")
    drag(page, palette_item(page, "Webhook"), slot(page))
    expect(card(page, "s1")).to_be_visible()
    expect(panel(page)).to_contain_text("Webhook · s1")
    panel(page).get_by_label("Method").select_option("PUT")
    url = panel(page).get_by_label("URL", exact=True)
    url.fill("ftp://example.com/{{ contact.id }}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(card(page, "s1").locator(".card-errors")).to_contain_text("url:")
    expect(panel(page).locator('[data-path="url"] .field-message')).to_contain_text("http:// or https://")
    url.fill("https://example.com/leads/{{ contact.id }}")
    panel(page).get_by_label("JSON body", exact=True).fill('{"name": "{{ contact.first_name }}"}')
    expect(card(page, "s1")).to_contain_text("PUT https://example.com/leads/{{ contact.id }}")

    drag(page, palette_item(page, "Send Slack Message"), slot(page, "s1"))
    expect(panel(page)).to_contain_text("Send Slack Message · s2")
    panel(page).get_by_label("Message", exact=True).fill("New lead: {{ contact.first_name }}")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    steps = stored_graph(workflow_id)["steps"]
    assert steps["s1"]["type"] == "webhook" and steps["s1"]["next"] == "s2"
    assert steps["s1"]["config"]["method"] == "PUT"
    assert steps["s1"]["config"]["url"] == "https://example.com/leads/{{ contact.id }}"
    assert steps["s1"]["config"]["body"] == '{"name": "{{ contact.first_name }}"}'
    assert steps["s2"] == {**steps["s2"], "type": "send_slack_message",
                           "config": {"text": "New lead: {{ contact.first_name }}", "retry_attempts": None,
                                      "retry_backoff_seconds": None, "failure_next": None}}


def test_an_admin_rotates_the_secret_and_sets_slack(page: Page, live_server: LiveServer, team):
    login(page, live_server, team["admin"].email, then="/settings/integrations")
    secret = page.get_by_label("Signing secret", exact=True)
    expect(secret).to_have_value(re.compile(r"^fdsk_"))
    expect(secret).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show").click()
    expect(secret).to_have_attribute("type", "text")
    first = secret.input_value()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.locator("#secret-rotated")).to_contain_text("Rotated")
    expect(secret).not_to_have_value(first)
    rotated = secret.input_value()
    assert outbound.signing_secret(team["account"].id) == rotated
    db.session.remove()

    page.get_by_label("Incoming-webhook URL").fill("ftp://nope")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#url-error")).not_to_be_empty()
    page.get_by_label("Incoming-webhook URL").fill(SLACK)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#slack-saved")).to_have_text("Saved.")
    expect(page.locator("#slack-state")).to_contain_text("https://hooks.slack.com/…mnop")
    expect(page.get_by_label("Incoming-webhook URL")).to_have_value("")
    page.reload()
    expect(page.locator("#slack-state")).to_contain_text("…mnop")
    assert SLACK not in page.content()
    assert outbound.slack_url(team["account"].id) == SLACK
    db.session.remove()
