"""The Split step in a real browser: dragged from the palette's Internal Tools group, its two paths drawn like
If/Else's branches, the percentages checked on save, a step put on each path, published; after live runs
each path shows how many contacts went down it, as they arrive."""

from __future__ import annotations

import re
from collections import Counter

from playwright.sync_api import expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import ExecutionLog, Workflow
from jobqueue import enroll
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_contact, make_workflow, run_jobs

EMPTY = {"name": "Split test", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_split_is_built_on_the_canvas_saved_and_shows_each_paths_count_live(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")

    group = page.locator("#palette .palette-group").filter(
        has=page.locator(".palette-item", has_text=re.compile(r"^Split$")))
    expect(group.locator("h3")).to_have_text("Internal Tools")
    drag(page, palette_item(page, "Split"), page.locator(".slot[data-slot-start]"))
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Split · s1")
    expect(page.locator(".branch-label")).to_have_text(["Path A", "Path B"])
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Path A 50% · Path B 50%")

    # Percentages that do not total 100 are refused on save, on the paths field.
    first_percent = panel.locator('[data-path="paths.0.percent"] input')
    first_percent.fill("60")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(panel.locator('[data-path="paths"] > .field-message')).to_have_text(
        "The percentages add up to 110; they must total 100.")
    first_percent.fill("50")
    panel.locator('[data-path="paths.1.name"] input').fill("Calls")
    expect(page.locator(".branch-label")).to_have_text(["Path A", "Calls"])
    expect(card(page, "s1").locator(".card-summary")).to_have_text("Path A 50% · Calls 50%")

    for index, tag in enumerate(["path-a", "calls"]):
        drag(page, palette_item(page, "Add Contact Tag"),
             page.locator(f'.slot[data-slot-from="s1"][data-slot-exit="config.paths.{index}.next"]'))
        expect(panel).to_contain_text(f"s{index + 2}")
        panel.get_by_label("Tag", exact=True).fill(tag)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    graph = stored_graph(workflow_id)
    assert graph["start"] == "s1"
    assert graph["steps"]["s1"]["config"] == {"paths": [{"name": "Path A", "percent": 50, "next": "s2"},
                                                        {"name": "Calls", "percent": 50, "next": "s3"}]}
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#status-badge")).to_have_text(re.compile(r"^Live: v\d+$"))

    wf = db.session.get(Workflow, workflow_id)
    contacts = [make_contact(team["account"]).id for _ in range(12)]
    enroll.create_request(wf, wf.published_version, contacts, is_test=False)
    db.session.commit()
    run_jobs(live_server.app)
    dealt = Counter(row.output["index"] for row in db.session.scalars(
        select(ExecutionLog).where(ExecutionLog.workflow_id == workflow_id, ExecutionLog.step_id == "s1")))
    db.session.remove()
    assert sum(dealt.values()) == 12

    counts = card(page, "s1").locator("xpath=following-sibling::div[1]").locator("[data-path-count]")
    expect(counts).to_have_text([f" · {n} {'contact' if n == 1 else 'contacts'}" for n in (dealt[0], dealt[1])])
    expect(card(page, "s1").locator('[data-stat="passed"]')).to_have_text("12 passed")
