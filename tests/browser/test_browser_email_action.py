"""Send Email in a real browser: dragged from the palette's Communication group, its form (from the config
schema) filled in and saved, its card summary; a test run (console email provider) showing its outcome on
the canvas; and Settings > Email saving the SMTP server with the password kept write-only."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import email_settings
from builder.models import Email
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_workflow, run_jobs

EMPTY = {"name": "Emails", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}
EMAIL_FLOW = {"name": "Email them", "trigger": {"type": "manual", "config": {}}, "start": "e", "steps": {
    "e": {"type": "send_email", "name": "Welcome email",
          "config": {"subject": "Welcome {{ contact.first_name }}", "text_body": "Hi {{ contact.first_name }}"}}}}


def test_send_email_is_added_from_the_palette_filled_in_and_saved(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)

    item = palette_item(page, "Send Email")
    expect(item).to_be_visible()
    expect(item).to_have_class(re.compile(r"\bcat-communication\b"))
    group = page.locator("#palette .palette-group",
                         has=page.locator(".palette-item", has_text=re.compile(r"^Send Email$")))
    expect(group).to_contain_text("Communication")
    drag(page, item, page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Send Email · s1")
    expect(card(page, "s1")).to_contain_text("Email: Hi {{ contact.first_name }}")  # the example subject
    panel.get_by_label("Subject", exact=True).fill("Welcome {{ contact.first_name }}")
    panel.get_by_label("Plain-text body", exact=True).fill("Hi {{ contact.first_name }}, thanks!")
    panel.get_by_label("HTML body (optional)", exact=True).fill("<p>Hi {{ contact.first_name }}</p>")
    expect(card(page, "s1")).to_contain_text("Email: Welcome {{ contact.first_name }}")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    step = stored_graph(workflow_id)["steps"]["s1"]
    assert step["type"] == "send_email"
    assert step["config"] == {"subject": "Welcome {{ contact.first_name }}",
                              "text_body": "Hi {{ contact.first_name }}, thanks!",
                              "html_body": "<p>Hi {{ contact.first_name }}</p>",
                              "retry_attempts": None, "retry_backoff_seconds": None, "failure_next": None}


def test_a_test_run_shows_the_emails_outcome_on_the_canvas(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMAIL_FLOW, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")

    page.get_by_role("button", name="Test workflow").click()
    test = page.locator("#test-panel")
    test.get_by_text("Create a test contact").click()
    test.get_by_label("First name").fill("Tess")
    test.get_by_label("Phone").fill("+14155551000")
    test.get_by_label("Email").fill("tess@example.com")
    test.get_by_role("button", name="Create test contact").click()
    expect(test.get_by_label("Test contact")).to_have_value(re.compile(r"^\d+$"))
    test.get_by_role("button", name="Run test").click()
    run_jobs(live_server.app)  # the step, then the email (console provider: recorded, not sent)
    run_jobs(live_server.app)

    expect(card(page, "e")).to_have_attribute("data-run-state", "ran")
    card(page, "e").click()
    facts = page.locator(".run-details .run-facts")
    expect(facts).to_contain_text("Sent totess@example.com")
    expect(facts).to_contain_text("SubjectWelcome Tess")
    expect(facts).not_to_contain_text("Email id")  # ids stay under Raw data
    with live_server.app.app_context():
        email = db.session.scalars(select(Email)).one()
        assert (email.status, email.provider, email.is_test) == ("sent", "console", True)
        db.session.remove()


def test_an_admin_saves_the_smtp_settings(page: Page, live_server: LiveServer, team):
    login(page, live_server, team["admin"].email, then="/settings/email")
    expect(page.locator("body")).to_have_attribute("data-settings-loaded", "true")
    expect(page.locator("#email-state")).to_contain_text("No SMTP server is set")
    page.get_by_label("SMTP host").fill("smtp.acme.test")
    page.get_by_label("Port", exact=True).fill("465")
    page.get_by_label("Security").select_option("tls")
    page.get_by_label("User name").fill("mailer")
    page.get_by_label("Password").fill("p4ss-word")
    page.get_by_label("From address").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-error-for="from_address"]')).not_to_be_empty()
    page.get_by_label("From address").fill("hello@acme.test")
    page.get_by_label("From name").fill("Acme")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#email-saved")).to_contain_text("Saved")
    expect(page.locator("#email-state")).to_contain_text("A password is stored")
    expect(page.get_by_label("Password")).to_have_value("")
    with live_server.app.app_context():
        stored = email_settings.settings_for(team["account"].id)
        assert (stored.host, stored.port, stored.security, stored.password) == ("smtp.acme.test", 465, "tls",
                                                                               "p4ss-word")
        db.session.remove()


def test_the_unsubscribe_page_works_without_a_login(page: Page, live_server: LiveServer, team):
    from builder.integrations import unsubscribe
    from builder.models import Contact
    from tests.factories import make_contact

    contact_id = make_contact(team["account"], email="ann@example.com").id
    with live_server.app.test_request_context():
        token = unsubscribe.token_for(contact_id)
    db.session.remove()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/unsubscribe/{token}")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#unsubscribed")).to_contain_text("You will not get any more emails")
    assert errors == []
    with live_server.app.app_context():
        assert db.session.get(Contact, contact_id).dnd_email is True
        db.session.remove()
