"""Templates and export/import in a real browser: start from a template and publish it in the builder; save a
workflow as a template (admins) and find it, escaped, in the gallery; import an exported file."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.domain.workflow_templates import builtin_templates
from builder.extensions import db
from builder.models import Workflow, WorkflowTemplate, WorkflowVersion
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_workflow

LIST = "/workflows"
XSS = "<img src=x onerror=alert(1)>"
VIEWPORT = {"width": 1400, "height": 900}


def new_page(browser) -> Page:
    return browser.new_context(viewport=VIEWPORT, accept_downloads=True).new_page()


def gallery(page: Page, own: int = 0):
    """The Create Workflow dialog once its cards are in: Blank, the built-in templates and `own` account ones."""
    page.get_by_role("button", name="Create Workflow").click()
    dialog = page.get_by_role("dialog", name="Create a workflow")
    expect(dialog.locator(".template-card")).to_have_count(1 + len(builtin_templates()) + own)
    return dialog


def test_starts_from_a_template_and_publishes(live_server: LiveServer, team, browser):
    page = new_page(browser)
    login(page, live_server, "manager@acme.test", then=LIST)
    dialog = gallery(page)
    speed = dialog.locator(".template-card", has_text="Speed to lead")
    expect(speed).to_contain_text("Text every new lead at once")
    expect(speed.get_by_role("list", name="Steps")).to_have_text(
        re.compile("Send SMS.*Manual Action: Call.*Add Contact Tag"))
    speed.click()
    expect(dialog.get_by_label("Name")).to_have_value("Speed to lead")
    dialog.get_by_role("button", name="Create and open").click()
    page.wait_for_url(re.compile(r"/workflows/\d+/edit$"))
    workflow_id = int(page.url.rsplit("/", 2)[-2])

    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    expect(page.locator("#status-badge")).to_have_text("Draft")
    expect(page.locator("#canvas-world")).to_contain_text("Call the new lead")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#status-badge")).to_have_text("Live: v1")
    expect(page.get_by_role("link", name="Export", exact=True)).to_have_attribute(
        "href", f"/api/workflows/{workflow_id}/export")

    wf = db.session.get(Workflow, workflow_id)
    assert wf.published_version is not None and wf.published_version.number == 1
    assert wf.published_version.graph == builtin_templates()["speed-to-lead"]["graph"]
    db.session.remove()


def test_admins_save_a_workflow_as_a_template_shown_as_text(live_server: LiveServer, team, browser):
    make_workflow(team["account"], {"name": XSS, "start": "s", "steps": {
        "s": {"type": "manual_call", "config": {}, "next": None}}})
    db.session.remove()
    page = new_page(browser)
    page.on("dialog", lambda d: d.accept())  # the delete confirmation
    login(page, live_server, "admin@acme.test", then=LIST)
    page.get_by_role("button", name=f"Save {XSS} as a template").click()
    save = page.get_by_role("dialog", name="Save as a template")
    expect(save.get_by_label("Template name")).to_have_value(XSS)
    save.get_by_label("One-line description").fill("Just a call")
    save.get_by_role("button", name="Save template").click()
    expect(page.locator("#list-notice")).to_contain_text(f"Saved “{XSS}” as a template")

    dialog = gallery(page, own=1)
    own = dialog.locator(".template-card", has_text="Your template")
    expect(own).to_contain_text(XSS)
    expect(own).to_contain_text("Just a call")
    assert page.locator(".template-card img").count() == 0  # shown as text, never as markup
    own.get_by_role("button", name=f"Delete template {XSS}").click()
    expect(dialog.locator(".template-card")).to_have_count(1 + len(builtin_templates()))
    assert db.session.scalar(select(WorkflowTemplate.id)) is None
    db.session.remove()


def test_managers_have_no_save_as_template_and_import_an_exported_file(live_server: LiveServer, team, browser,
                                                                       tmp_path):
    source = make_workflow(team["account"], {"name": "Assign and call", "start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": [team["agent"].id]}, "next": "b"},
        "b": {"type": "manual_call", "config": {}, "next": None}}})
    source_id = source.id
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "manager@acme.test", then=LIST)
    row = page.locator("#workflows-body tr", has_text="Assign and call")
    expect(row.get_by_role("button", name="Export Assign and call")).to_be_visible()
    expect(row.get_by_role("button", name=re.compile("as a template"))).to_have_count(0)
    with page.expect_download() as download:
        row.get_by_role("button", name="Export Assign and call").click()
    exported = tmp_path / "flow.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text())["graph"]["steps"]["a"]["config"]["user_ids"] == ["agent@acme.test"]

    page.locator("#import-file").set_input_files(str(exported))
    result = page.get_by_role("dialog", name="Workflow imported")
    expect(result).to_contain_text("Everything in the file matched this account.")
    result.get_by_role("button", name="Open in builder").click()
    page.wait_for_url(re.compile(r"/workflows/\d+/edit$"))
    copy_id = int(page.url.rsplit("/", 2)[-2])
    assert copy_id != source_id
    graphs = [db.session.scalar(select(WorkflowVersion.graph).where(WorkflowVersion.workflow_id == wid))
              for wid in (source_id, copy_id)]
    db.session.remove()
    assert graphs[0] == graphs[1]
