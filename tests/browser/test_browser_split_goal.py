"""A split test with a goal, built on the canvas in a real browser and run live: a Split whose first path waits
a day before a Goal Event ("bought" tag added), the second path tagging; saved, published, contacts enrolled;
a tag added through the API meets the goal where the contacts wait, and the goal's card counts them as they
pass it, live."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, Workflow
from jobqueue import enroll
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs, token_for

EMPTY = {"name": "Split and goal", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def test_a_split_with_a_goal_is_built_on_the_canvas_and_meets_its_goal_live(live_server, team, browser):
    workflow_id = make_workflow(team["account"], EMPTY, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")
    panel = page.locator("#side-panel")

    drag(page, palette_item(page, "Split"), page.locator(".slot[data-slot-start]"))
    expect(panel).to_contain_text("Split · s1")
    # Path A: wait a day, then the goal; path B: a tag.
    path = '.slot[data-slot-from="s1"][data-slot-exit="config.paths.{}.next"]'
    drag(page, palette_item(page, "Wait"), page.locator(path.format(0)))
    expect(panel).to_contain_text("Wait · s2")
    panel.get_by_label("Amount", exact=True).fill("1")
    panel.get_by_label("Unit", exact=True).select_option("days")
    drag(page, palette_item(page, "Goal Event"), page.locator('.slot[data-slot-from="s2"][data-slot-exit="next"]'))
    expect(panel).to_contain_text("Goal Event · s3")
    panel.get_by_label("Tag", exact=True).fill("bought")
    expect(card(page, "s3").locator(".card-summary")).to_have_text("Goal: tag “bought” added · else continue")
    drag(page, palette_item(page, "Add Contact Tag"), page.locator(path.format(1)))
    expect(panel).to_contain_text("s4")
    panel.get_by_label("Tag", exact=True).fill("path-b")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")
    steps = stored_graph(workflow_id)["steps"]
    assert [p["next"] for p in steps["s1"]["config"]["paths"]] == ["s2", "s4"]
    assert steps["s2"]["next"] == "s3" and steps["s3"]["type"] == "goal_event"
    assert steps["s3"]["config"] == {"goal": "tag_added", "tag": "bought", "if_not_met": "continue"}
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#status-badge")).to_have_text(re.compile(r"^Live: v\d+$"))

    wf = db.session.get(Workflow, workflow_id)
    contacts = [make_contact(team["account"]).id for _ in range(10)]
    enroll.create_request(wf, wf.published_version, contacts, is_test=False)
    db.session.commit()
    run_jobs(live_server.app)
    waiting = list(db.session.scalars(select(Enrollment.contact_id).where(
        Enrollment.workflow_id == workflow_id, Enrollment.status == "waiting")))
    db.session.remove()
    assert 0 < len(waiting) < 10  # both paths taken
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text(f"{len(waiting)} waiting")

    # The goal is met through the API where they wait: they jump to it, and its card counts them live.
    api = page.context.request
    headers = {"Authorization": f"Bearer {token_for(team['manager'])}"}
    for contact_id in waiting:
        res = api.patch(f"{live_server.url}/api/contacts/{contact_id}", data={"tags": ["bought"]}, headers=headers)
        assert res.status == 200, res.text()
    run_jobs(live_server.app)
    run_scheduled_jobs(live_server.app)  # the canvas's counts are published at most so often: the next one
    run_jobs(live_server.app)  # (the day's timers go too, and find their runs gone on)
    expect(card(page, "s3").locator('[data-stat="passed"]')).to_have_text(f"{len(waiting)} passed")
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text("0 waiting")
    met = db.session.scalars(select(ExecutionLog).where(ExecutionLog.workflow_id == workflow_id,
                                                        ExecutionLog.step_id == "s3"))
    assert sorted(row.contact_id for row in met if row.output.get("jumped_from") == "s2") == sorted(waiting)
    db.session.remove()
