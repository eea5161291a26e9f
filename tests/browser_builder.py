"""Driving the workflow builder page in browser tests: open it signed in, find cards and palette items,
drag with the pointer as a hand does, and read back the graph that was saved."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import WorkflowVersion
from tests.browser_support import LiveServer, login

VIEWPORT = {"width": 1500, "height": 1100}


def open_builder(browser, live: LiveServer, workflow_id: int, email: str = "manager@acme.test") -> Page:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    login(page, live, email, then=f"/workflows/{workflow_id}/edit")
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    return page


def stored_graph(workflow_id: int, number: int | None = None) -> dict[str, Any]:
    """The graph of the workflow's latest saved version (or of version `number`)."""
    query = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
    if number is not None:
        query = query.where(WorkflowVersion.number == number)
    version = db.session.scalars(query.order_by(WorkflowVersion.number.desc()).limit(1)).one()
    graph = version.graph
    db.session.remove()
    return graph


def card(page: Page, step_id: str) -> Locator:
    return page.locator(f'.step-card[data-step-id="{step_id}"]')


def palette_item(page: Page, label: str) -> Locator:
    return page.locator("#palette .palette-item", has_text=re.compile(f"^{re.escape(label)}$"))


def drag(page: Page, source: Locator, target: Locator) -> None:
    """Press, move in a few steps (as a hand does), release: pointer events only."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=8)
    page.mouse.up()
