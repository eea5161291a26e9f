"""The inbound-webhook trigger's panel in a real browser: the URL with its copy button, a sample
request sent to it while the builder waits, its fields picked per contact field and saved."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from builder.extensions import db
from builder.models import Workflow
from tests.browser.test_browser_builder import card, new_workflow, open_builder, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer

HOOK = {"name": "Leads", "trigger": {"type": "inbound_webhook", "config": {"field_map": {}}}, "start": "s1",
        "steps": {"s1": {"type": "add_tag", "config": {"tag": "lead"}, "next": None}}}


def test_an_editor_copies_the_url_waits_for_a_sample_and_maps_its_phone(live_server: LiveServer, team, browser):
    workflow_id = new_workflow(team, HOOK)  # a draft: the sample is only captured
    secret = db.session.get(Workflow, workflow_id).hook_secret
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    card(page, "trigger").click()

    url = page.locator("#hook-url")
    expect(url).to_have_value(f"{live_server.url}/hooks/workflows/{workflow_id}/{secret}")
    expect(page.locator("#hook-copy")).to_be_visible()
    page.locator("#hook-copy").click()
    expect(page.locator("#hook-url-status")).to_contain_text("Copied")  # by the clipboard API or by selecting it

    page.get_by_role("button", name="Wait for a sample request").click()
    expect(page.locator("#hook-listen-status")).to_contain_text("Waiting")
    lead = {"lead": {"phone": "+14155550123", "name": "<b>Noor</b>"}, "source": "ads"}
    res = requests.post(url.input_value(), json=lead, timeout=10)
    assert res.status_code == 202 and res.json() == {"captured": True, "enrolled": False}

    panel = page.locator("#side-panel")
    phone = panel.get_by_label("Phone", exact=True)
    expect(phone.locator("option")).to_have_count(4)  # "Not mapped" and the three paths
    expect(page.locator("#hook-sample pre")).to_contain_text('"name": "<b>Noor</b>"')  # shown as text
    phone.select_option("lead.phone")
    panel.get_by_label("First name", exact=True).select_option("lead.name")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved as v2")
    assert stored_graph(workflow_id)["trigger"]["config"]["field_map"] == {"lead.phone": "phone",
                                                                           "lead.name": "first_name"}
