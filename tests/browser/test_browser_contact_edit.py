"""Contacts in a real browser: create one from the Contacts page (the API's validation shown on the field),
edit it from its page, add a note that shows in the timeline, and delete it after confirming."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from builder.extensions import db
from builder.models import Contact
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import login
from tests.factories import make_contact

XSS = "<img src=x onerror=alert(1)>"


def new_page(browser) -> Page:
    return browser.new_context().new_page()


def stored(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    db.session.expunge(contact)
    db.session.remove()
    return contact


def test_create_fix_the_phone_edit_note_and_delete(live_server, team, browser):
    page = new_page(browser)
    alerts = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    login(page, live_server, "manager@acme.test", then="/contacts")

    page.get_by_role("button", name="Add contact").click()
    form = page.locator("#contact-dialog")
    expect(form.get_by_role("heading")).to_have_text("Add contact")
    form.get_by_label("First name").fill("Grace")
    form.get_by_label("Last name").fill(XSS)
    form.get_by_label("Phone").fill("12345")
    form.get_by_label("Time zone").select_option("Europe/London")
    form.get_by_label("Tags").fill("VIP, vip, lead")
    form.get_by_label("Assigned to").select_option(label="Alex Agent")
    form.get_by_role("button", name="Save").click()

    # The API's 422 is shown under the phone field; nothing was created.
    phone_error = form.locator("#contact-form-phone-error")
    expect(phone_error).to_be_visible()
    expect(phone_error).to_contain_text("phone number")
    expect(form.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    assert db.session.query(Contact).count() == 0
    db.session.remove()

    form.get_by_label("Phone").fill("(202) 555-0123")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    notice = page.locator("#contacts-notice")
    expect(notice).to_contain_text(f"Added Grace {XSS}")
    notice.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/contacts/\d+$"))
    contact_id = int(page.url.rsplit("/", 1)[1])

    # The contact page shows what was saved: E.164 phone, one VIP tag, the assignee.
    expect(page.locator("#contact-title")).to_have_text(f"Grace {XSS}")
    expect(page.locator("#contact-phone")).to_have_text("+12025550123")
    expect(page.locator("#contact-tags .tag")).to_have_count(2)
    expect(page.locator("#contact-assignee")).to_have_text("Alex Agent")

    page.get_by_role("button", name="Edit").click()
    expect(form.get_by_role("heading")).to_have_text("Edit contact")
    expect(form.get_by_label("Time zone")).to_have_value("Europe/London")
    form.get_by_label("Last name").fill("Hopper")
    form.get_by_label("Email").fill("not an email")
    form.get_by_role("button", name="Save").click()
    expect(form.locator("#contact-form-email-error")).to_be_visible()
    form.get_by_label("Email").fill("grace@example.com")
    form.get_by_label("SMS: do not text").check()
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(page.locator("#contact-title")).to_have_text("Grace Hopper")
    expect(page.locator("#contact-email")).to_have_text("grace@example.com")
    expect(page.locator("#composer-dnd")).to_be_visible()
    saved = stored(contact_id)
    assert (saved.last_name, saved.email, saved.dnd_sms, saved.timezone) == (
        "Hopper", "grace@example.com", True, "Europe/London")
    assert sorted(saved.tags) == ["VIP", "lead"]

    # A note shows in the timeline, as text.
    page.get_by_label("Add a note").fill(f"Prefers evenings {XSS}")
    page.get_by_role("button", name="Add note").click()
    note = page.locator("#timeline .timeline-note").first
    expect(note).to_contain_text(f"Prefers evenings {XSS}")
    expect(note).to_contain_text("by Morgan Manager")
    expect(page.get_by_label("Add a note")).to_have_value("")

    # Delete asks first; Cancel keeps the contact.
    page.get_by_role("button", name="Delete").click()
    confirm = page.locator("#delete-dialog")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert stored(contact_id).deleted_at is None
    page.get_by_role("button", name="Delete").click()
    confirm.get_by_role("button", name="Delete contact").click()
    page.wait_for_url(re.compile(r"/contacts\?deleted="))
    expect(page.locator("#contacts-notice")).to_have_text("Deleted Grace Hopper.")
    expect(page.locator("#contacts-empty")).to_be_visible()
    assert stored(contact_id).deleted_at is not None
    assert alerts == []  # no script ran from what was typed


def test_agents_edit_their_contact_without_reassigning_or_deleting(live_server, team, browser):
    contact_id = make_contact(team["account"], first_name="Lin", phone=None, assigned_user_id=team["agent"].id).id
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)

    # The composer's "add one before sending" leads to the form, in the phone field.
    expect(page.locator("#composer-no-phone")).to_be_visible()
    page.get_by_role("link", name="add one").click()
    form = page.locator("#contact-dialog")
    expect(form.get_by_label("Phone")).to_be_focused()
    expect(form.get_by_label("Assigned to")).to_have_count(0)
    form.get_by_label("Phone").fill("+1 415 555 0100")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(page.locator("#contact-phone")).to_have_text("+14155550100")
    expect(page.locator("#composer-no-phone")).to_be_hidden()
    expect(page.locator("#contact-assignee")).to_have_text("Alex Agent")


def test_the_form_offers_the_accounts_custom_fields_and_shows_their_errors(live_server, team, browser):
    from builder.domain.custom_fields import create_field

    create_field(team["account"].id, {"key": "plan", "label": "Plan", "type": "choice", "choices": ["Basic", "Pro"]})
    create_field(team["account"].id, {"key": "work_phone", "label": "Work phone", "type": "phone"})
    contact_id = make_contact(team["account"], first_name="Lin", custom_fields={"plan": "Basic"}).id
    db.session.commit()
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "admin@acme.test", then=f"/contacts/{contact_id}")
    page.get_by_role("button", name="Edit").click()
    form = page.locator("#contact-dialog")
    expect(form.get_by_label("Plan")).to_have_value("Basic")
    form.get_by_label("Plan").select_option("Pro")
    form.get_by_label("Work phone").fill("12")
    form.get_by_role("button", name="Save").click()
    error = form.locator("#contact-form-custom-1-error")
    expect(error).to_be_visible()
    expect(form.get_by_label("Work phone")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Work phone").fill("(415) 555-0199")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(page.locator("#contact-custom")).to_contain_text("Pro")
    assert stored(contact_id).custom_fields == {"plan": "Pro", "work_phone": "+14155550199"}
