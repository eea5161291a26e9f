"""Settings > Team, Your profile and the audit log in a real browser (CSRF on): an admin adds a person
and sees their temporary password once, deactivates someone whose open session is then refused, and
the audit log lists it; a person changes their own name and password."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import User
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login

TEAM = "/settings/team"


def row(page: Page, text: str):
    return page.locator("#team-body tr").filter(has_text=text)


def test_an_admin_adds_a_person_and_deactivates_one_whose_session_is_then_refused(
        page: Page, live_server: LiveServer, team, browser):
    agent_page = browser.new_context().new_page()
    login(agent_page, live_server, team["agent"].email, then="/settings/profile")
    expect(agent_page.locator("body")).to_have_attribute("data-profile-loaded", "true")

    login(page, live_server, team["admin"].email, then=TEAM)
    expect(row(page, "Alex Agent")).to_have_count(1)

    # Add a person whose name is markup: shown as text, never run.
    page.get_by_role("button", name="Add a person").click()
    page.get_by_label("Email").fill(team["agent"].email)  # taken: the error goes under the field
    page.get_by_label("Name").fill("Nia")
    page.locator("#invite-confirm").click()
    expect(page.locator("#invite-email-error")).not_to_be_empty()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Email").fill("nia@acme.test")
    page.get_by_label("Name").fill("<b>Nia</b>")
    page.get_by_role("dialog").get_by_label("Role").select_option("manager")
    page.locator("#invite-confirm").click()
    password = page.locator("#temporary-password")
    expect(password).not_to_be_empty()
    temporary = password.inner_text()
    page.locator("#password-done").click()
    expect(row(page, "<b>Nia</b>")).to_have_count(1)
    expect(page.locator("#team-body b")).to_have_count(0)
    added = db.session.scalar(select(User).where(User.email == "nia@acme.test"))
    assert added.role == "manager" and added.check_password(temporary)
    db.session.remove()

    # Deactivate Alex: their open page is refused at its next request.
    row(page, "Alex Agent").get_by_role("button", name="Deactivate").click()
    page.locator("#deactivate-confirm").click()
    expect(row(page, "Alex Agent")).to_contain_text("Deactivated")
    agent_page.get_by_role("button", name="Save").first.click()
    expect(agent_page.locator("#profile-error")).to_be_visible()
    agent_page.reload()
    expect(agent_page).to_have_url(f"{live_server.url}/login?next=%2Fsettings%2Fprofile")

    # ... and the audit log says who did it.
    page.goto(f"{live_server.url}/settings/audit")
    first = page.locator("#audit-body tr").first
    expect(first).to_contain_text("deactivated Alex Agent <agent@acme.test>")
    expect(first).to_contain_text("Avery Admin")
    expect(page.locator("#audit-body tr").nth(1)).to_contain_text("added <b>Nia</b> <nia@acme.test> as manager")


def test_a_person_changes_their_own_name_and_password(page: Page, live_server: LiveServer, team):
    login(page, live_server, team["agent"].email, then="/settings/profile")
    expect(page.get_by_label("Name")).to_have_value("Alex Agent")
    page.get_by_label("Name").fill("Alex A.")
    page.locator("#profile-save").click()
    expect(page.locator("#profile-saved")).to_have_text("Saved.")

    page.get_by_label("Current password").fill("not-it-at-all")
    page.get_by_label("New password").fill("brand-new-horse")
    page.locator("#password-save").click()
    expect(page.locator("#current_password-error")).to_have_text("That is not your current password.")
    page.get_by_label("Current password").fill("correct-horse")
    page.locator("#password-save").click()
    expect(page.locator("#password-saved")).to_have_text("Your password is changed.")
    page.reload()
    expect(page.get_by_label("Name")).to_have_value("Alex A.")
    user = db.session.get(User, team["agent"].id)
    assert user.name == "Alex A." and user.check_password("brand-new-horse")
    db.session.remove()
