"""Settings > Messaging and the quiet-hours confirmation, in a real browser (CSRF on)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Account, Call, Message, utcnow
from tests.browser.test_browser_manual_actions import call_graph, new_page, queue_actions, sms_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_contact

PAGE = "/settings/messaging"
SESSION = "/conversations/manual-actions/session"


def account_row(team) -> Account:
    account = db.session.get(Account, team["account"].id)
    db.session.refresh(account)
    return account


def test_an_admin_changes_the_keywords_and_quiet_hours(page: Page, live_server: LiveServer, team):
    login(page, live_server, team["admin"].email, then=PAGE)
    expect(page.locator("body")).to_have_attribute("data-settings-loaded", "true")
    opt_out, opt_in = page.get_by_label("Opt-out words"), page.get_by_label("Opt-in words")
    expect(opt_out).to_have_value("STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT")
    expect(opt_in).to_have_value("START YES UNSTOP")
    expect(page.get_by_label("Keep quiet hours")).not_to_be_checked()  # the test team's account has them off

    # A word in both lists is refused, and the error sits under the list it names.
    opt_out.fill("stop, arret, yes")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#opt_in_keywords-error")).to_contain_text("YES")
    expect(opt_in).to_have_attribute("aria-invalid", "true")

    opt_out.fill("stop, arret quit")
    opt_in.fill("start reprendre")
    page.get_by_label("Keep quiet hours").check()
    page.get_by_label("Contact from").fill("09:30")
    page.get_by_label("until").fill("20:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messaging-saved")).to_have_text("Saved.")
    expect(opt_out).to_have_value("STOP ARRET QUIT")

    page.reload()
    expect(opt_in).to_have_value("START REPRENDRE")
    expect(page.get_by_label("Contact from")).to_have_value("09:30")
    account = account_row(team)
    saved = (account.opt_out_keywords, account.opt_in_keywords, account.quiet_hours)
    db.session.remove()
    assert saved == (["STOP", "ARRET", "QUIT"], ["START", "REPRENDRE"], {"start": "09:30", "end": "20:00"})

    # Back to the default words: stored as "the defaults" again.
    page.get_by_role("button", name="Use the default words").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messaging-saved")).to_have_text("Saved.")
    account = account_row(team)
    saved = (account.opt_out_keywords, account.opt_in_keywords)
    db.session.remove()
    assert saved == (None, None)


def close_quiet_hours_now(team) -> None:
    """Hours that open two hours from now in UTC (the contacts' zone): it is quiet hours for them now."""
    start = utcnow() + timedelta(hours=2)
    account = account_row(team)
    account.quiet_hours_enabled = True
    account.quiet_hours_start, account.quiet_hours_end = start.strftime("%H:%M"), (start + timedelta(hours=2)).strftime(
        "%H:%M")
    db.session.commit()
    db.session.remove()


def test_lets_start_asks_before_texting_in_quiet_hours(live_server: LiveServer, team, browser):
    queue_actions(live_server, team, sms_graph("Follow-up", team["agent"].id),
                  [{"first_name": "Grace", "phone": "+14155551001", "timezone": "UTC"}])
    close_quiet_hours_now(team)
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    expect(agent.locator("#contact-name")).to_have_text("Grace")
    dialog = agent.locator("#quiet-hours-dialog")

    agent.get_by_role("button", name="Send", exact=True).click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(re.compile(r"It is \d\d:\d\d for Grace; quiet hours allow texts and calls only"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(agent.locator("#sms-error")).to_contain_text("Not sent")
    assert db.session.scalars(select(Message)).all() == []
    db.session.remove()

    agent.get_by_role("button", name="Send", exact=True).click()
    dialog.get_by_role("button", name="Send anyway").click()
    expect(agent.locator("#session-notice")).to_have_text("Message sent to Grace.")
    sent = db.session.scalars(select(Message.body)).all()
    db.session.remove()
    assert sent == ["Hi Grace, thanks for reaching out!"]


def test_lets_start_asks_before_calling_in_quiet_hours(live_server: LiveServer, team, browser):
    queue_actions(live_server, team, call_graph("Calls", team["agent"].id),
                  [{"first_name": "Alan", "phone": "+14155551002", "timezone": "UTC"}])
    close_quiet_hours_now(team)
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    dialog = agent.locator("#quiet-hours-dialog")
    expect(dialog).to_be_visible()  # dialling by itself asks first
    expect(dialog).to_contain_text("Confirm to call them anyway")
    dialog.get_by_role("button", name="Call anyway").click()
    expect(agent.locator("#call-status")).to_contain_text("simulated")
    calls = db.session.scalars(select(Call)).all()
    db.session.remove()
    assert len(calls) == 1


def test_the_contact_page_asks_before_texting_in_quiet_hours(live_server: LiveServer, team, browser):
    contact_id = make_contact(team["account"], first_name="Katherine", phone="+12025550124", timezone="UTC",
                              assigned_user_id=team["agent"].id).id
    db.session.remove()
    close_quiet_hours_now(team)
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    expect(page.locator("body")).to_have_attribute("data-thread-loaded", "true")
    page.get_by_label("Message").fill("Your quote is ready")
    page.get_by_role("button", name="Send", exact=True).click()
    dialog = page.locator("#quiet-hours-dialog")
    expect(dialog).to_contain_text("for Katherine")
    dialog.get_by_role("button", name="Send anyway").click()
    expect(page.locator("#thread .message")).to_have_count(1)
    expect(page.get_by_label("Message")).to_have_value("")
    sent = db.session.scalars(select(Message.body)).all()
    db.session.remove()
    assert sent == ["Your quote is ready"]
