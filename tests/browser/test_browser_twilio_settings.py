"""Settings > Twilio in a real browser: an admin saves the settings (CSRF on), the
token field stays blank with "set" shown, and field errors appear beside their field."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from builder.extensions import db
from builder.integrations import twilio_settings
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

PAGE = "/settings/twilio"


def test_an_admin_saves_the_twilio_settings(page: Page, live_server: LiveServer, team):
    login(page, live_server, team["admin"].email, then=PAGE)
    expect(page.locator("#twilio-source")).to_contain_text("not set up")
    page.get_by_label("Account SID").fill(ACCOUNT_SID)
    page.get_by_label("Auth token").fill(AUTH_TOKEN)
    page.get_by_label("From number").fill("not a number")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#from_number-error")).not_to_be_empty()
    expect(page.get_by_label("From number")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("From number").fill("(202) 555-0123")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#twilio-saved")).to_have_text("Saved.")
    expect(page.get_by_label("From number")).to_have_value("+12025550123")
    expect(page.get_by_label("Auth token")).to_have_value("")
    expect(page.locator("#auth_token-state")).to_contain_text("Set")

    page.reload()
    expect(page.get_by_label("Account SID")).to_have_value(ACCOUNT_SID)
    expect(page.get_by_label("Auth token")).to_have_attribute("placeholder", "set (leave blank to keep it)")
    assert AUTH_TOKEN not in page.content()
    credentials = twilio_settings.credentials_for(team["account"].id)
    db.session.remove()
    assert credentials.auth_token == AUTH_TOKEN and credentials.from_number == "+12025550123"
