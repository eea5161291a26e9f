"""The workflow builder in a real browser: building by drag and drop, forms, saving and
publishing, server errors on the right card, test runs lighting steps up, undo/redo,
the keyboard path, version history, live stats and the publish warning.

The app is served on a free port with the Socket.IO message queue on the test Redis;
RQ jobs run in-process (run_jobs) while the page is open, so their events reach it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import ManualAction, Workflow
from engine.graph import load_graph
from jobqueue import enroll
from tests.browser_builder import card, drag, open_builder, palette_item, stored_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import login
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs

XSS = "<img src=x onerror=alert(1)>"
EMPTY = {"name": "New lead follow-up", "trigger": {"type": "manual", "config": {}}, "start": None, "steps": {}}


def example_graph(user_ids: list[int]) -> dict[str, Any]:
    """The example workflow of ARCHITECTURE.md, with this test's user ids."""
    return {
        "name": "New lead follow-up",
        "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
        "start": "s1",
        "steps": {
            "s1": {"type": "assign_user", "config": {"user_ids": user_ids, "only_unassigned": True}, "next": "s2"},
            "s2": {"type": "manual_sms", "name": "Manual follow-up SMS",
                   "config": {"message": "Hi {{ contact.first_name }}, thanks for reaching out!"}, "next": "s3"},
            "s3": {"type": "if_else", "config": {"branches": [
                {"name": "Has email", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "s4"}],
                "else_next": None}},
            "s4": {"type": "add_tag", "config": {"tag": "followed-up"}, "next": None},
        },
    }


# --- helpers ------------------------------------------------------------------------

def new_workflow(team, graph: dict[str, Any], *, publish: bool = False) -> int:
    workflow_id = make_workflow(team["account"], graph, publish=publish).id
    db.session.remove()  # end the read before the browser writes
    return workflow_id


def slot(page: Page, after: str | None = None, exit: str = "next") -> Locator:
    if after is None:
        return page.locator(".slot[data-slot-start]")
    return page.locator(f'.slot[data-slot-from="{after}"][data-slot-exit="{exit}"]')


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version")


def panel(page: Page) -> Locator:
    return page.locator("#side-panel")


# --- building the example workflow by dragging --------------------------------------------

def test_a_marketer_builds_the_example_workflow_by_dragging_publishes_and_reloads(live_server, team, browser):
    workflow_id = new_workflow(team, EMPTY)
    page = open_builder(browser, live_server, workflow_id)

    card(page, "trigger").click()
    panel(page).get_by_label("Trigger", exact=True).select_option(label="Contact tag added")
    panel(page).get_by_label("Tag", exact=True).fill("new-lead")

    drag(page, palette_item(page, "Assign To User"), slot(page))
    expect(card(page, "s1")).to_be_visible()
    expect(panel(page)).to_contain_text("Assign To User · s1")
    panel(page).get_by_role("checkbox", name="Avery Admin").check()
    panel(page).get_by_role("checkbox", name="Morgan Manager").check()
    panel(page).get_by_role("checkbox", name="Only apply to unassigned contacts").check()

    drag(page, palette_item(page, "Manual Action: SMS"), slot(page, "s1"))
    expect(panel(page)).to_contain_text("s2")
    expect(panel(page)).not_to_contain_text("null")
    panel(page).get_by_label("Step name").fill("Manual follow-up SMS")
    message = panel(page).get_by_label("Message", exact=True)
    message.fill("Hi ")
    panel(page).get_by_role("button", name="Insert a merge field into Message").click()
    panel(page).get_by_role("menuitem", name="First name").click()
    message.press("End")
    message.press_sequentially(", thanks for reaching out!")
    expect(message).to_have_value("Hi {{ contact.first_name }}, thanks for reaching out!")

    drag(page, palette_item(page, "If / Else"), slot(page, "s2"))
    expect(panel(page)).to_contain_text("s3")
    panel(page).get_by_label("Name", exact=True).fill("Has email")
    panel(page).get_by_label("Field", exact=True).fill("contact.email")
    panel(page).get_by_label("Operator").select_option(label="is not empty")
    expect(page.locator(".branch-label").first).to_have_text("Has email")

    drag(page, palette_item(page, "Add Contact Tag"), slot(page, "s3", "config.branches.0.next"))
    expect(panel(page)).to_contain_text("s4")
    panel(page).get_by_label("Tag", exact=True).fill("followed-up")

    save(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#status-badge")).to_have_text("Live: v2")

    expected = load_graph(example_graph([team["admin"].id, team["manager"].id]))
    assert stored_graph(workflow_id) == expected
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    expect(page.locator(".step-card")).to_have_count(5)
    expect(card(page, "s2")).to_contain_text("Manual follow-up SMS")
    expect(page.locator("#save-state")).to_have_text("Saved as v2")
    wf = db.session.get(Workflow, workflow_id)
    assert wf.published_version.number == 2 and wf.published_version.graph == expected
    db.session.remove()


# --- server errors and inline validation ----------------------------------------------------

def test_a_validation_error_from_the_server_lands_on_the_card_it_names(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)

    card(page, "s2").click()
    # Only the server checks merge syntax: the field is fine as far as the browser knows.
    panel(page).get_by_label("Message", exact=True).fill("Hi {{ contact.first_name")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#builder-error")).to_contain_text("Not saved: 1 problem")
    expect(card(page, "s2")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(card(page, "s2").locator(".card-errors")).to_contain_text("message: Merge field error")
    for other in ("trigger", "s1", "s3", "s4"):
        expect(card(page, other).locator(".card-errors li")).to_have_count(0)
    expect(panel(page).locator('[data-path="message"] .field-message')).to_contain_text("Merge field error")
    assert stored_graph(workflow_id)["steps"]["s2"]["config"]["message"].endswith("reaching out!")

    # Fixing the field clears its message on the card at once.
    panel(page).get_by_label("Message", exact=True).fill("Hi {{ contact.first_name }}")
    expect(card(page, "s2").locator(".card-errors li")).to_have_count(0)

    # Trigger errors go to the trigger card; the form says what is wrong as you type.
    card(page, "trigger").click()
    tag = panel(page).get_by_label("Tag", exact=True)
    tag.fill("x" * 101)
    expect(panel(page).locator('[data-path="tag"] .field-message')).to_have_text("At most 100 characters (now 101).")
    tag.fill("")
    expect(panel(page).locator('[data-path="tag"] .field-message')).to_have_text("Required.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(card(page, "trigger").locator(".card-errors")).to_contain_text("tag:")
    expect(card(page, "s2").locator(".card-errors li")).to_have_count(0)

    tag.fill("new-lead")
    save(page)
    expect(page.locator("#builder-error")).to_be_hidden()
    expect(card(page, "trigger").locator(".card-errors li")).to_have_count(0)
    assert stored_graph(workflow_id)["steps"]["s2"]["config"]["message"] == "Hi {{ contact.first_name }}"


def test_what_users_wrote_is_shown_as_text(live_server, team, browser):
    graph = example_graph([team["agent"].id])
    graph["name"] = XSS
    graph["steps"]["s2"]["name"] = XSS
    graph["steps"]["s3"]["config"]["branches"][0]["name"] = XSS
    workflow_id = new_workflow(team, graph)
    page = open_builder(browser, live_server, workflow_id)
    expect(card(page, "s2").locator(".card-title")).to_have_text(XSS)
    expect(page.locator(".branch-label").first).to_have_text(XSS)
    expect(page.locator("#workflow-name")).to_have_value(XSS)
    card(page, "s2").click()
    expect(page.locator("#panel-title")).to_have_text(XSS)
    assert page.locator("img").count() == 0


# --- test runs -----------------------------------------------------------------------------

def test_a_test_run_lights_the_steps_up_in_order(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")

    page.get_by_role("button", name="Test workflow").click()
    test = page.locator("#test-panel")
    test.get_by_text("Create a test contact").click()
    test.get_by_label("First name").fill("Tess")
    test.get_by_label("Phone").fill("+14155551000")
    test.get_by_label("Email").fill("tess@example.com")
    test.get_by_role("button", name="Create test contact").click()
    expect(test.get_by_label("Test contact")).to_have_value(re.compile(r"^\d+$"))
    test.get_by_role("button", name="Run test").click()
    expect(page.locator("#test-status")).to_have_text("Running: steps light up as they run.")

    run_jobs(live_server.app)
    expect(card(page, "s1")).to_have_attribute("data-run-state", "ran")
    expect(card(page, "s2")).to_have_attribute("data-run-state", "waiting")
    expect(page.locator("#test-status")).to_have_text("Manual follow-up SMS: Waiting for a person.")
    expect(card(page, "s3").locator(".run-badge")).to_be_hidden()

    # A reload mid-run shows where the run is, and goes on following it.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    expect(card(page, "s1")).to_have_attribute("data-run-state", "ran")
    expect(card(page, "s2")).to_have_attribute("data-run-state", "waiting")
    card(page, "s1").click()
    facts = panel(page).locator(".run-facts")
    expect(facts).to_contain_text("Assigned to")
    expect(facts).to_contain_text(team["agent"].name)  # a name, not a user id

    # The agent sends the queued SMS; the run goes on down the "Has email" branch.
    action = db.session.scalars(select(ManualAction).where(ManualAction.workflow_id == workflow_id)).one()
    assert action.is_test
    client = live_server.app.test_client()
    token = client.post("/api/auth/token", json={"email": "agent@acme.test", "password": "correct-horse"}).json
    done = client.post(f"/api/manual-actions/{action.id}/complete", json={"message": "Hi Tess!"},
                       headers={"Authorization": f"Bearer {token['token']}"})
    assert done.status_code == 200, done.json
    db.session.remove()
    run_jobs(live_server.app)

    expect(card(page, "s4")).to_have_attribute("data-run-state", "ran")
    expect(card(page, "s3")).to_have_attribute("data-run-state", "ran")
    steps = page.locator("#test-log li").evaluate_all("rows => rows.map(r => r.dataset.step)")
    assert list(dict.fromkeys(steps)) == ["s1", "s2", "s3", "s4"]
    card(page, "s4").click()
    details = panel(page).locator(".run-details")
    expect(details.locator("[data-run-outcome]")).to_have_text("Ran")
    expect(details.locator(".run-facts")).to_have_text("Tagfollowed-up")
    expect(details.locator(".raw-data")).to_contain_text('"tag": "followed-up"')  # the raw data stays at hand


# --- undo and redo ---------------------------------------------------------------------------

def test_undo_and_redo_restore_the_graph(live_server, team, browser):
    original = load_graph(example_graph([team["agent"].id]))
    workflow_id = new_workflow(team, original)
    page = open_builder(browser, live_server, workflow_id)

    drag(page, palette_item(page, "Add Note"), slot(page, "s1"))  # s1 -> s5 -> s2
    panel(page).get_by_label("Body", exact=True).press_sequentially("Called")  # one undo step, not six
    card(page, "s4").focus()
    page.keyboard.press("Delete")
    expect(card(page, "s4")).to_have_count(0)
    drag(page, card(page, "s2"), slot(page, "s3", "config.else_next"))  # the SMS moves into Else
    expect(page.locator(".branch").nth(1).locator('[data-step-id="s2"]')).to_be_visible()

    edited = json.loads(json.dumps(original))
    edited["steps"]["s1"]["next"] = "s5"
    edited["steps"]["s5"] = {"type": "add_note", "name": "", "config": {"body": "Called"}, "next": "s3"}
    del edited["steps"]["s4"]
    edited["steps"]["s3"]["config"]["branches"][0]["next"] = None
    edited["steps"]["s3"]["config"]["else_next"] = "s2"
    edited["steps"]["s2"]["next"] = None
    save(page)
    assert stored_graph(workflow_id) == edited

    card(page, "trigger").focus()
    for _ in range(4):
        page.keyboard.press("Control+z")
    expect(page.get_by_role("button", name="Undo")).to_be_disabled()
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    save(page)
    assert stored_graph(workflow_id) == original

    for _ in range(4):
        page.keyboard.press("Control+Shift+z")
    expect(page.get_by_role("button", name="Redo")).to_be_disabled()
    save(page)
    assert stored_graph(workflow_id) == edited


# --- keyboard only -----------------------------------------------------------------------------

def test_the_keyboard_alone_adds_fills_moves_and_saves_a_step(live_server, team, browser):
    workflow_id = new_workflow(team, {"name": "Keys", "start": "s1", "steps": {
        "s1": {"type": "add_tag", "config": {"tag": "lead"}, "next": None}}})
    page = open_builder(browser, live_server, workflow_id)

    card(page, "trigger").focus()
    for _ in range(3):  # trigger -> its "+" -> s1 -> the "+" after s1
        page.keyboard.press("ArrowDown")
    expect(slot(page, "s1").locator("button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#add-step-menu")).to_be_visible()
    page.keyboard.type("note")
    page.keyboard.press("Enter")
    expect(card(page, "s2")).to_be_focused()
    page.keyboard.press("Enter")  # edit it: focus goes to the panel
    expect(panel(page).get_by_label("Step name")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("Came in by keyboard")
    expect(card(page, "s2").locator(".card-summary")).to_have_text("Came in by keyboard")
    page.keyboard.press("Escape")
    expect(card(page, "s2")).to_be_focused()

    page.keyboard.press("m")  # move it above s1: the first free "+" is under the trigger
    expect(slot(page).locator("button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(card(page, "s2")).to_be_focused()
    page.keyboard.press("Control+s")
    expect(page.locator("#builder-notice")).to_contain_text("Saved as version 2")
    graph = stored_graph(workflow_id)
    assert graph["start"] == "s2"
    assert graph["steps"]["s2"] == {"type": "add_note", "name": "", "config": {"body": "Came in by keyboard"},
                                    "next": "s1"}
    assert graph["steps"]["s1"]["next"] is None


def test_the_palette_filters_and_places_a_step_without_a_mouse(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    search = page.get_by_label("Search actions").first
    search.fill("sms")
    expect(page.locator("#palette .palette-item")).to_have_text(
        ["Manual Action: SMS", "Send SMS", "Wait for Customer Reply"])
    search.press("Tab")
    page.keyboard.press("Tab")  # the second match
    expect(palette_item(page, "Send SMS")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#canvas-hint")).to_have_text(
        "Choose where Send SMS goes: Tab to a + and press Enter. Escape cancels.")
    expect(slot(page).locator("button")).to_be_focused()
    page.keyboard.press("Tab")  # the next "+" that can take it, past the cards' own buttons
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(slot(page, "s1").locator("button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(card(page, "s5")).to_be_focused()
    expect(page.locator("#canvas-hint")).to_be_hidden()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("See you soon")
    save(page)
    graph = stored_graph(workflow_id)
    assert graph["steps"]["s1"]["next"] == "s5" and graph["steps"]["s5"]["next"] == "s2"


def test_deleting_a_branching_step_asks_which_branch_stays(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s3").hover()
    card(page, "s3").get_by_role("button", name="Delete If / Else").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog.locator("#delete-choices label")).to_have_text(
        ["Delete every branch", "Keep the “Has email” branch in its place"])
    dialog.get_by_label("Keep the “Has email” branch in its place").check()
    page.locator("#delete-confirm").click()
    expect(card(page, "s3")).to_have_count(0)
    expect(page.locator("#builder-notice")).to_have_text("Deleted If / Else. Undo (Ctrl+Z) brings it back.")
    save(page)
    graph = stored_graph(workflow_id)
    assert graph["steps"]["s2"]["next"] == "s4" and sorted(graph["steps"]) == ["s1", "s2", "s4"]


# --- versions, publishing, stats ---------------------------------------------------------------

def test_version_history_shows_a_readable_diff_and_restores_a_version(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    first = stored_graph(workflow_id)
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s4").click()
    panel(page).get_by_label("Tag", exact=True).fill("vip")
    save(page)

    page.get_by_role("button", name="Version history").click()
    dialog = page.locator("#versions-dialog")
    expect(dialog.locator("#versions-body tr")).to_have_count(2)
    change = dialog.locator('#diff-changes li[data-step-id="s4"]')
    expect(change.locator(".diff-kind")).to_have_text("Changed")
    expect(change.locator(".diff-summary")).to_contain_text("tag changed from “followed-up” to “vip”")
    change.get_by_text("Details").click()
    expect(change.locator(".diff-details tbody tr")).to_contain_text(["followed-upvip"])

    dialog.get_by_role("button", name="Restore v1").click()
    expect(page.locator("#builder-notice")).to_have_text("Version 1 restored as version 3 (a draft).")
    expect(card(page, "s4").locator(".card-summary")).to_have_text("followed-up")
    expect(page.locator("#save-state")).to_have_text("Saved as v3")
    assert stored_graph(workflow_id) == first


def test_publishing_warns_how_many_contacts_wait_at_the_steps_it_removes(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]), publish=True)
    wf = db.session.get(Workflow, workflow_id)
    people = [make_contact(team["account"], first_name=name) for name in ("Ada", "Grace")]
    enroll.create_request(wf, wf.published_version, [p.id for p in people], is_test=False)
    db.session.remove()
    run_jobs(live_server.app)  # both wait at the manual SMS

    page = open_builder(browser, live_server, workflow_id)
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text("2 waiting")
    card(page, "s2").focus()
    page.keyboard.press("Delete")
    expect(page.locator("#delete-waiting")).to_contain_text("2 contacts are waiting at this step")
    page.locator("#delete-confirm").click()
    expect(card(page, "s2")).to_have_count(0)

    page.get_by_role("button", name="Publish").click()
    impact = page.locator("#impact-dialog")
    expect(impact.locator("li")).to_have_text(["Manual follow-up SMS: 2 contacts waiting"])
    impact.get_by_role("button", name="Publish anyway").click()
    expect(page.locator("#status-badge")).to_have_text("Live: v2")
    assert "s2" not in stored_graph(workflow_id)["steps"]


def test_publishing_can_be_called_off_at_the_warning(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]), publish=True)
    wf = db.session.get(Workflow, workflow_id)
    enroll.create_request(wf, wf.published_version, [make_contact(team["account"]).id], is_test=False)
    db.session.remove()
    run_jobs(live_server.app)
    page = open_builder(browser, live_server, workflow_id)
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text("1 waiting")
    card(page, "s2").focus()
    page.keyboard.press("Delete")
    page.locator("#delete-confirm").click()
    page.get_by_role("button", name="Publish").click()
    page.locator("#impact-dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator("#status-badge")).to_have_text("Live: v1 · draft changes")
    published = db.session.get(Workflow, workflow_id).published_version.number
    db.session.remove()
    assert published == 1


def test_step_stats_follow_live_runs(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]), publish=True)
    page = open_builder(browser, live_server, workflow_id)
    expect(page.locator("body")).to_have_attribute("data-watching", "true")
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text("0 waiting")

    wf = db.session.get(Workflow, workflow_id)
    enroll.create_request(wf, wf.published_version, [make_contact(team["account"]).id], is_test=False)
    db.session.remove()
    run_jobs(live_server.app)
    run_scheduled_jobs(live_server.app)  # a trailing publish, if the counts moved twice within a second
    run_jobs(live_server.app)
    expect(card(page, "s1").locator('[data-stat="passed"]')).to_have_text("1 passed")
    expect(card(page, "s2").locator('[data-stat="waiting"]')).to_have_text("1 waiting")


# --- the guard, pan and zoom ------------------------------------------------------------------

def test_leaving_with_unsaved_changes_asks_first(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s4").click()
    panel(page).get_by_label("Tag", exact=True).fill("changed")
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    with pytest.raises(Exception):  # noqa: B017  (the navigation is called off, whichever way Playwright says so)
        page.reload(timeout=5000)
    assert asked == ["beforeunload"]
    expect(panel(page).get_by_label("Tag", exact=True)).to_have_value("changed")


def test_the_canvas_pans_and_zooms(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    world = page.locator("#canvas-world")
    before = card(page, "s1").bounding_box()

    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] - 40)  # empty canvas
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + box["height"] - 90, steps=5)
    page.mouse.up()
    after = card(page, "s1").bounding_box()
    assert (round(after["x"] - before["x"]), round(after["y"] - before["y"])) == (100, -50)

    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator("#zoom-level")).to_have_text("120%")
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.keyboard.down("Control")
    page.mouse.wheel(0, 400)
    page.keyboard.up("Control")
    expect(page.locator("#zoom-level")).not_to_have_text("120%")
    assert "scale(" in world.get_attribute("style")
    zoomed = card(page, "s1").bounding_box()
    page.mouse.wheel(0, 200)  # without Ctrl: a scroll pans
    page.wait_for_function("y => document.querySelector('[data-step-id=s1]').getBoundingClientRect().y < y",
                           arg=zoomed["y"])
    assert round(zoomed["y"] - card(page, "s1").bounding_box()["y"]) == 200
    page.locator("#zoom-level").click()  # back to 100%
    expect(page.locator("#zoom-level")).to_have_text("100%")


# --- branches and Go To from the side panel ---------------------------------------------------

def test_branches_are_added_and_removed_in_the_form_and_go_to_picks_its_step(live_server, team, browser):
    workflow_id = new_workflow(team, example_graph([team["agent"].id]))
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s3").click()
    panel(page).get_by_role("button", name="Add branch").click()
    expect(page.locator(".branch-label")).to_have_text(["Has email", "Branch 2", "Else"])
    panel(page).get_by_label("Field", exact=True).nth(1).fill("contact.tags")
    values = panel(page).get_by_label("Value", exact=True)
    expect(values).to_have_count(0)  # "is not empty" takes no value: its field is not shown
    panel(page).get_by_label("Operator").nth(1).select_option(label="has tag")
    expect(values).to_have_count(1)  # Branch 2's, now that its operator needs one
    values.fill("vip")

    panel(page).get_by_role("button", name="Remove Branch 1").click()  # and the tag step under it
    expect(page.locator(".branch-label")).to_have_text(["Branch 1", "Else"])
    expect(card(page, "s4")).to_have_count(0)
    expect(page.locator("#builder-notice")).to_have_text(
        "1 step no longer reached from the trigger was removed. Undo (Ctrl+Z) brings it back.")
    card(page, "trigger").focus()
    page.keyboard.press("Control+z")
    expect(card(page, "s4")).to_be_visible()
    expect(page.locator(".branch-label")).to_have_text(["Has email", "Branch 2", "Else"])

    page.get_by_role("button", name="Fit").click()  # three columns now: bring them all into view
    drag(page, palette_item(page, "Go To"), slot(page, "s3", "config.else_next"))
    expect(card(page, "s5")).to_be_visible()
    panel(page).get_by_label("Go to step").select_option(label="Manual follow-up SMS (s2)")
    expect(page.locator(".jump-chip")).to_have_text("↪ Goes to “Manual follow-up SMS”")
    page.locator(".jump-chip").click()
    expect(card(page, "s2")).to_be_focused()
    save(page)
    graph = stored_graph(workflow_id)
    assert [b["name"] for b in graph["steps"]["s3"]["config"]["branches"]] == ["Has email", ""]
    assert graph["steps"]["s3"]["config"]["branches"][1]["conditions"] == [
        {"field": "contact.tags", "op": "has_tag", "value": "vip"}]
    assert graph["steps"]["s3"]["config"]["else_next"] == "s5"
    assert graph["steps"]["s5"] == {"type": "goto", "name": "", "config": {"target": "s2"}, "next": None}


def test_wait_and_assign_user_forms_show_only_the_fields_of_the_chosen_mode(live_server, team, browser):
    graph = {**EMPTY, "start": "s1", "steps": {
        "s1": {"type": "wait", "config": {"mode": "delay", "amount": 2, "unit": "hours"}, "next": "s2"},
        "s2": {"type": "assign_user", "config": {"user_ids": [team["agent"].id, team["agent2"].id]}, "next": None},
    }}
    workflow_id = new_workflow(team, graph)
    page = open_builder(browser, live_server, workflow_id)
    card(page, "s1").click()
    amount, until = panel(page).get_by_label("Amount"), panel(page).get_by_label("Until")
    expect(amount).to_have_value("2")
    expect(until).to_have_count(0)
    panel(page).get_by_label("Wait", exact=True).select_option(label="Until a date and time")
    expect(amount).to_have_count(0)
    expect(until).to_be_visible()
    until.fill("2030-01-15T09:30")
    save(page)
    stored = stored_graph(workflow_id)["steps"]["s1"]["config"]
    assert stored["mode"] == "until" and stored["until"].startswith("2030-01-15T09:30")

    card(page, "s2").click()
    weights = panel(page).get_by_role("group", name="Weights")
    expect(weights).to_have_count(0)
    panel(page).get_by_label("Traffic split").select_option(label="Weighted")
    expect(weights).to_be_visible()


def test_the_send_window_is_set_in_the_workflow_settings(live_server, team, browser):
    workflow_id = new_workflow(team, {**EMPTY, "start": "s1", "steps": {
        "s1": {"type": "send_sms", "config": {"message": "Hi"}, "next": None}}})
    page = open_builder(browser, live_server, workflow_id)
    card(page, "trigger").click()
    panel(page).get_by_label("Send texts only on set days and hours").check()
    expect(panel(page).get_by_label("Sat")).not_to_be_checked()
    panel(page).get_by_label("Fri").uncheck()
    panel(page).get_by_label("From").fill("10:00")
    panel(page).get_by_label("Until").fill("16:30")
    panel(page).get_by_label("Allow re-entry").check()  # the other settings keep the window
    save(page)
    settings = stored_graph(workflow_id)["settings"]
    assert settings["send_window"] == {"days": ["mon", "tue", "wed", "thu"], "start": "10:00", "end": "16:30"}
    assert settings["allow_reentry"] is True

    panel(page).get_by_label("Until").fill("08:00")  # before it starts: the server says so
    page.get_by_role("button", name="Save", exact=True).click()
    expect(panel(page)).to_contain_text("The window must end after it starts")

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    card(page, "trigger").click()
    expect(panel(page).get_by_label("Send texts only on set days and hours")).to_be_checked()
    expect(panel(page).get_by_label("From")).to_have_value("10:00")
    panel(page).get_by_label("Send texts only on set days and hours").uncheck()
    save(page)
    assert "send_window" not in stored_graph(workflow_id)["settings"]


def test_a_long_name_and_trigger_summary_are_not_cut_at_1400_px(live_server, team, browser):
    name = "Speed to lead for the spring open-house campaign, west coast offices"
    tag = "spring-open-house-west-coast-2027-registrants"
    workflow_id = new_workflow(team, {**EMPTY, "name": name, "trigger": {
        "type": "contact_tag_added", "config": {"tag": tag}}})
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    login(page, live_server, "manager@acme.test", then=f"/workflows/{workflow_id}/edit")
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    cut = "el => el.scrollWidth > el.clientWidth + 1"
    expect(page.locator("#workflow-name")).to_have_value(name)
    assert not page.locator("#workflow-name").evaluate(cut)
    summary = card(page, "trigger").locator(".card-summary")
    expect(summary).to_contain_text(tag)
    assert not summary.evaluate(cut)


# --- the model's edits (static/js/builder/model.js, run in the page) -----------------------------

EDIT = """async ({graph, specs, ops}) => {
  const M = await import("/static/js/builder/model.js");
  const specOf = (type) => specs[type] ?? {kind: "next"};
  let model = M.fromGraph(graph);
  try {
    for (const [op, ...args] of ops) {
      if (op === "insert") model = M.insertStep(model, args[0], {type: args[1], config: args[2] ?? {}}, specOf).model;
      if (op === "move") model = M.moveStep(model, args[0], args[1], specOf);
      if (op === "delete") model = M.deleteStep(model, args[0], specOf, args[1] ?? null);
      if (op === "config") model = M.setConfig(model, args[0], args[1], specOf);
      if (op === "drops") {
        const rule = M.dropRule(model, args[0], specOf);
        return {drops: args[1].map((slot) => rule(slot))};
      }
    }
  } catch (error) {
    return {error: error.message};
  }
  return {graph: M.toGraph(model)};
}"""
START = {"from": None, "exit": None}
BRANCHY = {
    "name": "B", "start": "s1",
    "steps": {
        "s1": {"type": "add_tag", "config": {"tag": "a"}, "next": "s2"},
        "s2": {"type": "if_else", "config": {"branches": [
            {"name": "Yes", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "s3"}],
            "else_next": "s4"}, "next": None},
        "s3": {"type": "add_tag", "config": {"tag": "yes"}, "next": None},
        "s4": {"type": "add_tag", "config": {"tag": "no"}, "next": None},
    },
}


@pytest.fixture
def edit(live_server, page):
    from engine import registry

    specs = {action.type: action.exit_layout for action in registry.all_actions()}
    page.goto(f"{live_server.url}/login")

    def run(graph: dict[str, Any], *ops: list[Any]) -> dict[str, Any]:
        return page.evaluate(EDIT, {"graph": graph, "specs": specs, "ops": [list(op) for op in ops]})

    return run


def after(step: str, exit: str = "next") -> dict[str, str]:
    return {"from": step, "exit": exit}


def test_a_new_step_takes_the_first_unused_id_and_the_rest_of_the_path(edit):
    graph = {"name": "G", "start": "s1", "steps": {
        "s1": {"type": "add_tag", "config": {"tag": "a"}, "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "b"}, "next": None}}}
    out = edit(graph, ("insert", after("s1"), "add_note", {"body": "hi"}))["graph"]
    assert out["steps"]["s1"]["next"] == "s2"
    assert out["steps"]["s2"] == {"type": "add_note", "name": "", "config": {"body": "hi"}, "next": "s3"}
    out = edit(graph, ("insert", START, "if_else", {"branches": [{"conditions": [], "next": None}], "else_next": None}))
    assert out["graph"]["start"] == "s2"
    assert out["graph"]["steps"]["s2"]["config"]["branches"][0]["next"] == "s1"  # the path goes on in branch 1
    assert edit(graph, ("insert", after("s1"), "end"))["error"].startswith("This step ends the workflow")
    assert edit(graph, ("insert", after("s3"), "end"))["graph"]["steps"]["s3"]["next"] == "s2"


def test_moving_a_branching_step_takes_its_branches_along(edit):
    out = edit(BRANCHY, ("move", "s2", START))["graph"]
    assert out["start"] == "s2"
    assert out["steps"]["s2"]["config"]["branches"][0]["next"] == "s3"
    assert out["steps"]["s3"]["next"] == "s1"  # what followed the slot goes on at the end of the first branch
    assert out["steps"]["s1"]["next"] is None
    assert out["steps"]["s2"]["config"]["else_next"] == "s4"
    assert edit(BRANCHY, ("move", "s2", after("s3")))["error"] == "A step cannot move into its own branches."
    assert edit(BRANCHY, ("drops", {"id": "s2"}, [START, after("s1"), after("s3"), after("s4")])) == {
        "drops": [True, False, False, False]}  # above s1; not where it is already; not inside itself


def test_moving_a_linear_step_closes_the_gap_it_leaves(edit):
    out = edit(BRANCHY, ("move", "s1", after("s4")))["graph"]
    assert out["start"] == "s2"
    assert out["steps"]["s4"]["next"] == "s1" and out["steps"]["s1"]["next"] is None


def test_deleting_a_branching_step_keeps_the_chosen_branch_or_none(edit):
    kept = edit(BRANCHY, ("delete", "s2", "config.else_next"))["graph"]
    assert kept["steps"]["s1"]["next"] == "s4"
    assert sorted(kept["steps"]) == ["s1", "s4"]
    gone = edit(BRANCHY, ("delete", "s2"))["graph"]
    assert gone["steps"]["s1"]["next"] is None
    assert sorted(gone["steps"]) == ["s1"]
    linear = edit(BRANCHY, ("delete", "s1"))["graph"]
    assert linear["start"] == "s2" and sorted(linear["steps"]) == ["s2", "s3", "s4"]


def test_removing_a_branch_in_the_config_removes_the_steps_only_it_reached(edit):
    config = json.loads(json.dumps(BRANCHY["steps"]["s2"]["config"]))
    config["else_next"] = None
    out = edit(BRANCHY, ("config", "s2", config))["graph"]
    assert sorted(out["steps"]) == ["s1", "s2", "s3"]
