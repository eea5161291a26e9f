"""The Content-Security-Policy in a real browser: every page loads, goes live and works without a violation.

Violations are caught two ways: the `securitypolicyviolation` event (listened to from
a script Playwright adds before the page's own, which the policy does not govern) and
Chromium's "Refused to ..." console errors.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from builder.extensions import db
from jobqueue import enroll
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_contact, make_workflow, run_jobs

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI} at ${where}`);
});
"""


class Watched:
    """A page whose CSP violations are collected from the first byte of every document it loads."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        return [*self.page.evaluate("window.__cspViolations || []"), *self.console]


def seeded(live: LiveServer, team) -> dict[str, int]:
    """A contact assigned to the agent with a queued manual SMS, and the workflow that queued it."""
    account = team["account"]
    contact = make_contact(account, first_name="Grace", last_name="Hopper", assigned_user_id=team["agent"].id,
                           tags=["vip"])
    graph = {
        "name": "Follow up",
        "start": "sms",
        "steps": {"sms": {"type": "manual_sms", "name": "Follow-up text", "config": {"message": "Hi there"},
                          "next": None}},
    }
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    ids = {"contact": contact.id, "workflow": wf.id}
    run_jobs(live.app)
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return ids


def wait_settled(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    live = page.locator("[data-live-status]")
    if live.count():
        # The Socket.IO WebSocket is allowed by connect-src 'self'.
        expect(live.first).to_have_text("Live")


def test_the_login_page_and_error_pages_have_no_violation(live_server: LiveServer, team, browser):
    watched = Watched(browser.new_context().new_page())
    watched.page.goto(f"{live_server.url}/login")
    wait_settled(watched.page)
    watched.page.get_by_label("Email").fill("admin@acme.test")
    watched.page.get_by_label("Password").fill("wrong-horse")
    watched.page.get_by_role("button", name="Log in").click()
    expect(watched.page.get_by_role("alert")).to_contain_text("do not match")
    login(watched.page, live_server, "admin@acme.test")
    watched.page.goto(f"{live_server.url}/contacts/999999")
    wait_settled(watched.page)
    assert watched.violations() == []


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_page_loads_without_a_violation(live_server: LiveServer, team, browser, role):
    ids = seeded(live_server, team)
    watched = Watched(browser.new_context().new_page())
    page = watched.page
    login(page, live_server, team[role].email)
    # Every page the menu offers (so pages added later are covered too), and the detail pages.
    menu = page.eval_on_selector_all("nav[aria-label=Main] a[href]", "links => links.map(a => a.pathname)")
    assert {"/", "/conversations/manual-actions", "/contacts", "/workflows"} <= set(menu)
    paths = [*menu, f"/contacts/{ids['contact']}"]
    if role == "admin":
        assert "/settings/twilio" in menu
        paths.append(f"/workflows/{ids['workflow']}/edit")
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        wait_settled(page)
        assert watched.violations() == [], path
    if role == "agent":
        page.goto(f"{live_server.url}/conversations/manual-actions")
        page.get_by_role("link", name="Let's Start").click()
        page.wait_for_url(re.compile(r"/conversations/manual-actions/session"))
        expect(page.get_by_label("Message", exact=True)).to_have_value("Hi there")
        wait_settled(page)
    else:
        page.goto(f"{live_server.url}/workflows/{ids['workflow']}/edit")
        wait_settled(page)
        page.get_by_role("button", name="Fit").click()  # the canvas moves by CSSOM transforms, which CSP allows
    assert watched.violations() == []


def test_the_policy_is_enforced(live_server: LiveServer, team, browser):
    """Guards the test above: an inline script is refused and reported, so silence means compliance."""
    watched = Watched(browser.new_context().new_page())
    page = watched.page
    login(page, live_server, team["admin"].email)
    page.evaluate("""() => {
      window.__ran = false;
      const script = document.createElement("script");
      script.textContent = "window.__ran = true";
      document.body.append(script);
      const div = document.createElement("div");
      div.setAttribute("style", "color: red");
      document.body.append(div);
    }""")
    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__ran") is False
    assert any("script-src" in v for v in watched.violations())
    assert any("style-src" in v for v in watched.violations())
