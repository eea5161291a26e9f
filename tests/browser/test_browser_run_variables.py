"""Run variables in a real browser: a step's "Insert merge field" menu offers the outputs of the steps
that run before it on every path (a webhook's response), not those of a step on one branch only, and
inserts {{ steps.<step id>.<field> }} that then saves."""

from __future__ import annotations

from playwright.sync_api import expect

from builder.extensions import db
from tests.browser_builder import card, open_builder, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_workflow

# branch: has email -> tagged -> hook, else -> hook; hook -> text.
GRAPH = {"name": "Order text", "trigger": {"type": "manual", "config": {}}, "start": "branch", "steps": {
    "branch": {"type": "if_else", "config": {"branches": [
        {"name": "Has email", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "tagged"}],
        "else_next": "hook"}},
    "tagged": {"type": "add_tag", "name": "Tag emailers", "config": {"tag": "emailer"}, "next": "hook"},
    "hook": {"type": "webhook", "name": "Order lookup", "config": {"url": "https://example.com/orders"},
             "next": "text"},
    "text": {"type": "send_sms", "config": {"message": "Your order: "}, "next": None},
}}


def test_the_merge_menu_offers_and_inserts_an_earlier_webhooks_output(live_server, team, browser):
    workflow_id = make_workflow(team["account"], GRAPH, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    card(page, "text").click()
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Send SMS · text")
    panel.get_by_role("button", name="Insert a merge field into Message").click()
    menu = panel.get_by_role("menu", name="Merge fields")
    expect(menu.get_by_role("menuitem", name="Order lookup > Response body")).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Order lookup > Response headers")).to_be_visible()
    # The tag step runs on one branch only: its output is not offered.
    expect(menu.get_by_role("menuitem", name="Tag emailers > Tag")).to_have_count(0)
    menu.get_by_role("menuitem", name="Order lookup > Response status").click()
    message = panel.get_by_label("Message", exact=True)
    expect(message).to_have_value("Your order: {{ steps.hook.status }}")

    # The webhook itself reads nothing of its own.
    card(page, "hook").click()
    expect(panel).to_contain_text("Webhook · hook")
    panel.get_by_role("button", name="Insert a merge field into URL").click()
    expect(panel.get_by_role("menuitem", name="Order lookup > Response status")).to_have_count(0)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    assert stored_graph(workflow_id)["steps"]["text"]["config"]["message"] == "Your order: {{ steps.hook.status }}"
