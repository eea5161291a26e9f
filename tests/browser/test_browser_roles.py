"""Every page x every role in a real browser: it loads with no JavaScript error and shows its main content,
or it is refused (403) for a role that may not use it.

One server, one browser, one login per role. A page added to the app without a row in PAGES fails
test_every_page_is_listed, so new pages get checked here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

from builder.extensions import db
from builder.models import Contact, User, utcnow
from jobqueue.enroll import create_request
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login, wait_watching
from tests.factories import app_config, make_contact, make_workflow, run_jobs, token_for

ROLES = ("agent", "manager", "admin")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})
SMS_FLOW = {"name": "Role check flow", "start": "m", "steps": {
    "m": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None}}}


def live(page: Page) -> None:
    expect(page.locator("[data-live-status]").first).to_have_text("Live")


@dataclass(frozen=True)
class PageRule:
    path: str  # {contact} and {workflow} are filled from the seeded data
    allowed: frozenset[str]
    loaded: Callable[[Page], Any]  # asserts the page's main content is there


# One row per page endpoint (GET routes outside /api, /hooks, /webhooks and /static; login is tested elsewhere).
PAGES: dict[str, PageRule] = {
    "pages.home": PageRule("/", EVERYONE, lambda p: (
        live(p), expect(p.locator('[data-count="pending_total"]')).to_have_text(re.compile(r"^[1-9]\d*$")))),
    "contact_pages.contacts": PageRule("/contacts", EVERYONE, lambda p: (
        expect(p.locator("#contacts-body tr").filter(has_text="Grace Hopper")).to_have_count(1))),
    "contact_import_pages.import_contacts": PageRule("/contacts/import", STAFF, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-import-ready", "true"))),
    "contact_pages.contact": PageRule("/contacts/{contact}", EVERYONE, lambda p: (
        expect(p.locator("#contact-title")).to_have_text("Grace Hopper"), wait_watching(p))),
    "pages.manual_actions": PageRule("/conversations/manual-actions", EVERYONE, lambda p: (
        live(p), expect(p.locator("#actions-body tr").filter(has_text="Grace Hopper")).to_have_count(1))),
    "pages.manual_action_session": PageRule("/conversations/manual-actions/session", EVERYONE, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-session-state", "ready"))),
    "task_pages.tasks": PageRule("/tasks", EVERYONE, lambda p: (
        live(p), expect(p.locator("body")).to_have_attribute("data-list-loaded", "true"))),
    "workflow_pages.workflows": PageRule("/workflows", EVERYONE, lambda p: (
        expect(p.locator("#workflows-body")).to_contain_text("Role check flow"))),
    "workflow_pages.edit": PageRule("/workflows/{workflow}/edit", STAFF, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-builder-state", "ready"))),
    "report_pages.reports": PageRule("/reports", STAFF, lambda p: (
        live(p), expect(p.locator("body")).to_have_attribute("data-reports-state", "ready"))),
    "settings_pages.twilio": PageRule("/settings/twilio", ADMINS, lambda p: (
        expect(p.locator("#twilio-source")).not_to_be_empty())),
    "settings_pages.messaging": PageRule("/settings/messaging", ADMINS, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-settings-loaded", "true"))),
    "integration_pages.integrations": PageRule("/settings/integrations", ADMINS, lambda p: (
        expect(p.locator("#signing_secret")).to_have_value(re.compile(r"^fdsk_")))),
    "team_pages.team": PageRule("/settings/team", ADMINS, lambda p: (
        expect(p.locator("#team-body tr").filter(has_text="Sam Agent")).to_have_count(1))),
    "team_pages.audit": PageRule("/settings/audit", ADMINS, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-list-loaded", "true"))),
    "team_pages.profile": PageRule("/settings/profile", EVERYONE, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-profile-loaded", "true"))),
    "custom_field_pages.custom_fields": PageRule("/settings/custom-fields", ADMINS, lambda p: (
        expect(p.locator("body")).to_have_attribute("data-settings-loaded", "true"))),
}
NOT_PAGES = ("api", "hooks", "webhooks", "static", "favicon.ico")


def page_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.rule.strip("/").split("/")[0] not in NOT_PAGES
            and not rule.endpoint.startswith("auth.")}


def test_every_page_is_listed(tmp_path, redis_url):
    from app import create_app

    app = create_app(app_config(f"sqlite:///{tmp_path / 'pages.sqlite3'}", redis_url))
    assert page_endpoints(app) == set(PAGES)


def seed(team) -> dict[str, int]:
    """Grace (the agent's contact) and one queued Manual SMS for each role, so every Let's Start has work."""
    account = team["account"]
    contacts = [make_contact(account, first_name="Grace", last_name="Hopper", assigned_user_id=team["agent"].id)]
    contacts += [make_contact(account, first_name=role.title(), phone=f"+1415555{2000 + n}",
                              assigned_user_id=team[role].id) for n, role in enumerate(("manager", "admin"))]
    workflow = make_workflow(account, SMS_FLOW)
    ids = {"contact": contacts[0].id, "workflow": workflow.id}
    create_request(workflow, workflow.published_version, [c.id for c in contacts], is_test=False)
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return ids


def visit(page: Page, live_server: LiveServer, role: str, endpoint: str, rule: PageRule, ids: dict[str, int],
          errors: list[str]) -> list[str]:
    """Open one page as `role`; returns what went wrong."""
    errors.clear()
    response = page.goto(live_server.url + rule.path.format(**ids))
    problems: list[str] = []
    status = response.status if response else None
    if role in rule.allowed:
        if status != 200:
            problems.append(f"HTTP {status}")
        else:
            try:
                rule.loaded(page)
            except AssertionError as exc:
                problems.append(f"main content missing: {str(exc).splitlines()[0]}")
    elif status != 403:
        problems.append(f"expected 403, got HTTP {status} at {page.url}")
    else:
        page.wait_for_load_state("load")
    # The refused page's own 403 is logged by the browser as a failed load: that one is expected.
    unexpected = [e for e in errors if not (role not in rule.allowed and "status of 403" in e)]
    problems += [f"JavaScript: {e}" for e in unexpected]
    return [f"{role} {endpoint} ({rule.path}): {p}" for p in problems]


def test_every_page_loads_cleanly_or_is_refused_for_each_role(live_server, team, browser):
    ids = seed(team)
    run_jobs(live_server.app)
    db.session.remove()
    failures: list[str] = []
    for role in ROLES:
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        login(page, live_server, team[role].email)
        for endpoint, rule in PAGES.items():
            failures += visit(page, live_server, role, endpoint, rule, ids, errors)
        context.close()
    assert failures == [], "\n".join(failures)


def _queue_two(live_server, team) -> tuple[Any, Any]:
    """Two queued Manual SMS for agent A: "Moved Away" first, then "Grace Hopper"."""
    account = team["account"]
    moved = make_contact(account, first_name="Moved", last_name="Away", assigned_user_id=team["agent"].id)
    kept = make_contact(account, first_name="Grace", last_name="Hopper", phone="+14155552100",
                        assigned_user_id=team["agent"].id)
    workflow = make_workflow(account, SMS_FLOW)
    create_request(workflow, workflow.published_version, [moved.id], is_test=False)
    run_jobs(live_server.app)
    create_request(workflow, workflow.published_version, [kept.id], is_test=False)
    run_jobs(live_server.app)
    return moved, kept


def test_lets_start_never_shows_a_contact_that_went_to_another_agent(live_server, team, browser):
    """A manager gives the contact to agent B: its queued action goes with it, so agent A's session starts
    on the next contact of their own."""
    moved, _ = _queue_two(live_server, team)
    token = token_for(db.session.get(User, team["manager"].id))
    resp = live_server.app.test_client().patch(
        f"/api/contacts/{moved.id}", json={"assigned_user_id": team["agent2"].id},
        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    db.session.remove()

    page = browser.new_context().new_page()
    login(page, live_server, team["agent"].email, then="/conversations/manual-actions/session")
    expect(page.locator("body")).to_have_attribute("data-session-state", "ready")
    expect(page.locator("#contact-name")).to_have_text("Grace Hopper")


def test_lets_start_moves_past_an_action_whose_contact_it_may_not_see(live_server, team, browser):
    """The action is still in agent A's queue but its contact may not be shown (deleted between the claim and
    the context read): the context is a 404, so the session moves on instead of claiming that one forever."""
    moved, _ = _queue_two(live_server, team)
    contact = db.session.get(Contact, moved.id)
    contact.deleted_at = utcnow()
    db.session.commit()
    db.session.remove()

    page = browser.new_context().new_page()
    login(page, live_server, team["agent"].email, then="/conversations/manual-actions/session")
    expect(page.locator("body")).to_have_attribute("data-session-state", "ready")
    expect(page.locator("#contact-name")).to_have_text("Grace Hopper")
    expect(page.locator("#session-notice")).to_have_text("That manual action was removed; moving on.")


# Send Email: Settings > Email. The public unsubscribe page (no login; its signed token is the key) is
# checked in test_browser_email_action.py.
PAGES["email_settings_pages.email"] = PageRule("/settings/email", ADMINS, lambda p: (
    expect(p.locator("body")).to_have_attribute("data-settings-loaded", "true")))
NOT_PAGES = (*NOT_PAGES, "unsubscribe")

# Settings > Custom values (admins).
PAGES["custom_value_pages.custom_values"] = PageRule("/settings/custom-values", ADMINS, lambda p: (
    expect(p.locator("body")).to_have_attribute("data-settings-loaded", "true")))
