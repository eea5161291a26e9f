"""The contact actions in a real browser: each dragged from the palette, its form filled, saved and
reloaded; and a contact's page following what a workflow does to its DND and engagement score."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Contact, Workflow
from engine.graph import load_graph
from jobqueue import enroll
from tests.browser.test_browser_builder import (
    EMPTY,
    card,
    drag,
    new_workflow,
    open_builder,
    palette_item,
    panel,
    save,
    slot,
    stored_graph,
)
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import login, wait_watching
from tests.factories import make_contact, make_workflow, run_jobs

EXPECTED = {
    "name": "New lead follow-up",
    "trigger": {"type": "manual", "config": {}},
    "start": "s1",
    "steps": {
        "s1": {"type": "create_contact", "config": {
            "first_name": "Lee", "last_name": "", "email": "", "phone": "{{ contact.custom.partner_phone }}",
            "custom_fields": [{"field": "custom.source", "value": "referral"}], "if_exists": "skip"},
            "next": "s2"},
        "s2": {"type": "find_contact", "config": {
            "by": "custom_field", "custom_field": "custom.member_id", "value": "{{ contact.custom.member_id }}",
            "found_next": "s3", "not_found_next": "s5"}, "next": None},
        "s3": {"type": "modify_engagement_score", "config": {"operation": "subtract", "amount": 5}, "next": "s4"},
        "s4": {"type": "set_dnd", "config": {"channel": "email", "dnd": "off"}, "next": None},
        "s5": {"type": "remove_assigned_user", "config": {}, "next": "s6"},
        "s6": {"type": "delete_contact", "config": {}, "next": None},
    },
}


def test_a_marketer_drags_in_every_contact_action_fills_the_forms_saves_and_reloads(live_server, team, browser):
    workflow_id = new_workflow(team, EMPTY)
    page = open_builder(browser, live_server, workflow_id)

    drag(page, palette_item(page, "Create Contact"), slot(page))
    expect(panel(page)).to_contain_text("Create Contact · s1")
    form = panel(page)
    form.get_by_label("First name", exact=True).fill("Lee")
    form.get_by_label("Phone", exact=True).fill("{{ contact.custom.partner_phone }}")
    form.get_by_label("If a contact with this phone or email exists").select_option(label="Leave it as it is")
    form.get_by_role("button", name="Add custom field").click()
    form.get_by_label("Field", exact=True).fill("custom.source")
    form.get_by_label("Value", exact=True).fill("referral")
    expect(card(page, "s1").locator(".card-summary")).to_have_text(
        "Lee · {{ contact.custom.partner_phone }} (skip if it exists)")

    drag(page, palette_item(page, "Find Contact"), slot(page, "s1"))
    expect(panel(page)).to_contain_text("Find Contact · s2")
    expect(form.get_by_label("Custom field", exact=True)).to_be_hidden()  # shown only when finding by one
    form.get_by_label("Find by").select_option(label="Custom field")
    form.get_by_label("Custom field", exact=True).fill("custom.member_id")
    form.get_by_label("Value", exact=True).fill("{{ contact.custom.member_id }}")
    expect(page.locator(".branch-label")).to_have_text(["Found", "Not found"])

    drag(page, palette_item(page, "Modify Contact Engagement Score"), slot(page, "s2", "config.found_next"))
    expect(panel(page)).to_contain_text("s3")
    form.get_by_label("Operation").select_option(label="Subtract")
    form.get_by_label("Points").fill("5")

    drag(page, palette_item(page, "Disable/Enable DND"), slot(page, "s3"))
    expect(panel(page)).to_contain_text("s4")
    form.get_by_label("Channel").select_option(label="Email")
    form.get_by_label("Do not disturb").select_option(label="Disable DND")

    drag(page, palette_item(page, "Remove Assigned User"), slot(page, "s2", "config.not_found_next"))
    expect(panel(page)).to_contain_text("s5")
    drag(page, palette_item(page, "Delete Contact"), slot(page, "s5"))
    expect(panel(page)).to_contain_text("s6")

    save(page)
    expected = load_graph(EXPECTED)
    assert stored_graph(workflow_id) == expected

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-builder-state", "ready")
    expect(page.locator(".step-card")).to_have_count(7)
    summaries = {"s2": "By custom.member_id: {{ contact.custom.member_id }}", "s3": "Subtract 5 points",
                 "s4": "DND off for email", "s5": "The contact is left unassigned",
                 "s6": "The contact is deleted and leaves the workflow"}
    for step_id, text in summaries.items():
        expect(card(page, step_id).locator(".card-summary")).to_have_text(text)
    # Nothing can follow Delete Contact: the path ends there.
    expect(slot(page, "s6")).to_have_count(0)
    card(page, "s4").click()
    expect(panel(page).get_by_label("Channel").locator("option:checked")).to_have_text("Email")
    wf = db.session.get(Workflow, workflow_id)
    assert wf.latest_version().graph == expected
    db.session.remove()


def test_a_contacts_page_follows_the_dnd_and_score_a_workflow_sets(live_server, team, browser):
    contact_id = make_contact(team["account"], first_name="Dana").id
    workflow_id = make_workflow(team["account"], {"name": "Engage", "start": "s", "steps": {
        "s": {"type": "set_dnd", "config": {"channel": "email", "dnd": "on"}, "next": "p"},
        "p": {"type": "modify_engagement_score", "config": {"operation": "add", "amount": 3}}}}).id
    db.session.remove()
    page = browser.new_context().new_page()
    login(page, live_server, "manager@acme.test", then=f"/contacts/{contact_id}")
    wait_watching(page)
    expect(page.locator("#contact-score")).to_have_text("0")
    expect(page.locator("#dnd-email")).not_to_be_checked()

    wf = db.session.get(Workflow, workflow_id)
    enroll.create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.commit()
    run_jobs(live_server.app)
    expect(page.locator("#contact-score")).to_have_text("3")
    expect(page.locator("#dnd-email")).to_be_checked()

    page.locator("#dnd-email").uncheck()
    expect(page.locator("#dnd-status")).to_have_text("Saved: email do-not-disturb is off.")
    assert db.session.scalar(select(Contact.dnd_email).where(Contact.id == contact_id)) is False
    db.session.remove()
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#contact-dialog").get_by_label("E-mail: do not send")).not_to_be_checked()
