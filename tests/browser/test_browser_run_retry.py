"""Retrying a failed run in a real browser: a test run whose webhook fails (the receiver answers 500) shows
"Retry from this step" in its log; once the receiver is fixed, pressing it runs the webhook again and the rest
of the workflow, without repeating the steps before it. The toolbar's "Retry all failed" does the same for
the live runs."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog
from jobqueue.enroll import create_request
from tests.browser_builder import card, open_builder
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.factories import make_contact, make_workflow, run_jobs
from tests.http_receiver import http_receiver


def flow(url: str) -> dict:
    return {"name": "Retry me", "trigger": {"type": "manual", "config": {}}, "start": "s1", "steps": {
        "s1": {"type": "add_note", "config": {"body": "before"}, "next": "s2"},
        "s2": {"type": "webhook", "config": {"url": url, "retries": 0}, "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "done"}, "next": None}}}


def test_retry_from_this_step_in_the_test_runs_log(live_server, team, browser):
    with http_receiver(live_server.app) as receiver:
        receiver.answer(500, "down")
        workflow_id = make_workflow(team["account"], flow(receiver.base + "/crm"), publish=False).id
        db.session.remove()
        page = open_builder(browser, live_server, workflow_id)
        expect(page.locator("body")).to_have_attribute("data-watching", "true")
        page.get_by_role("button", name="Test workflow").click()
        test = page.locator("#test-panel")
        test.get_by_text("Create a test contact").click()
        test.get_by_label("First name").fill("Tess")
        test.get_by_role("button", name="Create test contact").click()
        expect(test.get_by_label("Test contact")).to_have_value(re.compile(r"^\d+$"))
        test.get_by_role("button", name="Run test").click()
        run_jobs(live_server.app)  # s1, then the webhook's request (refused), then its resume
        run_jobs(live_server.app)
        expect(card(page, "s2")).to_have_attribute("data-run-state", "failed")

        test.locator('#test-log li[data-step="s2"][data-outcome="failed"] button').click()
        retry = test.get_by_role("button", name="Retry from this step")
        expect(retry).to_be_visible()
        receiver.answer(200, {"ok": True})
        retry.click()
        expect(page.locator("#test-status")).to_contain_text("Retrying from")
        run_jobs(live_server.app)
        run_jobs(live_server.app)
        expect(card(page, "s3")).to_have_attribute("data-run-state", "ran")
        expect(card(page, "s2")).to_have_attribute("data-run-state", "ran")
        assert len(receiver.received) == 2

    with live_server.app.app_context():
        steps = [r.step_id for r in db.session.scalars(select(ExecutionLog).order_by(ExecutionLog.id))]
        assert steps.count("s1") == 1  # the step before the failure ran once
        assert db.session.scalars(select(Enrollment)).one().status == "completed"
        db.session.remove()


def test_retry_all_failed_in_the_toolbar(live_server, team, browser):
    with http_receiver(live_server.app) as receiver:
        receiver.answer(500, "down")
        wf = make_workflow(team["account"], flow(receiver.base + "/crm"))
        contact = make_contact(team["account"], first_name="Live")
        create_request(wf, wf.published_version, [contact.id], is_test=False)
        workflow_id = wf.id
        db.session.remove()
        run_jobs(live_server.app)
        run_jobs(live_server.app)
        page = open_builder(browser, live_server, workflow_id)
        button = page.get_by_role("button", name="Retry all failed (1)")
        expect(button).to_be_visible()
        receiver.answer(200, {"ok": True})
        button.click()
        expect(page.locator("#builder-notice")).to_contain_text("1 failed run is running again")
        expect(button).to_be_hidden()
        run_jobs(live_server.app)
        run_jobs(live_server.app)
    with live_server.app.app_context():
        assert db.session.scalars(select(Enrollment)).one().status == "completed"
        db.session.remove()


def test_the_on_failure_exit_is_drawn_and_picked_in_the_side_panel(live_server, team, browser):
    graph = {"name": "On failure", "trigger": {"type": "manual", "config": {}}, "start": "s1", "steps": {
        "s1": {"type": "webhook", "config": {"url": "https://example.com/x", "failure_next": "s3"}, "next": "s2"},
        "s2": {"type": "add_tag", "config": {"tag": "synced"}, "next": None},
        "s3": {"type": "add_note", "config": {"body": "{{ steps.s1.error }}"}, "next": None}}}
    workflow_id = make_workflow(team["account"], graph, publish=False).id
    db.session.remove()
    page = open_builder(browser, live_server, workflow_id)
    path = page.locator('.failure-path[data-failure-of="s1"]')
    expect(path).to_contain_text("On failure of")
    expect(path.locator('[data-step-id="s3"]')).to_be_visible()
    expect(page.locator(".jump-chip").first).to_contain_text("On failure, goes to")
    card(page, "s1").click()
    picker = page.locator("#side-panel").get_by_label("On failure, go to step")
    expect(picker).to_have_value("s3")
    expect(page.locator("#side-panel").get_by_label("Retry attempts")).to_be_visible()
