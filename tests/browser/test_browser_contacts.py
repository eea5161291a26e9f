"""Conversations > Contacts in a real browser: Add to Automation with its progress bar, a contact's
live conversation with delivery statuses, DND switches, and the thread inside Let's Start.

The app is served on a free port with the Socket.IO message queue on the test Redis; jobs run in
this process (run_jobs) while the pages poll and listen, and Twilio is the local fake, whose
callbacks go through a test client of the same app.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Contact, Enrollment
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login, wait_watching
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs
from tests.fake_twilio import PUBLIC_URL, connect_account

XSS = "<img src=x onerror=alert(1)>"
TAG_FLOW = {"name": "Welcome drip", "start": "t", "steps": {
    "t": {"type": "add_tag", "config": {"tag": "welcomed"}, "next": None}}}


def new_page(browser) -> Page:
    return browser.new_context().new_page()


def wait_live(page: Page) -> None:
    expect(page.locator("[data-live-status]").first).to_have_text("Live")


def contacts(account, count: int, *, tag: str, first_phone: int = 1100) -> list[int]:
    ids = [make_contact(account, first_name=f"Lead{n:02d}", phone=f"+1415555{first_phone + n}", tags=[tag]).id
           for n in range(count)]
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return ids


def enrolled(workflow_id: int) -> set[int]:
    ids = set(db.session.scalars(select(Enrollment.contact_id).where(Enrollment.workflow_id == workflow_id)))
    db.session.remove()
    return ids


def published(account, graph: dict) -> int:
    workflow_id = make_workflow(account, graph).id
    db.session.remove()
    return workflow_id


# --- Add to Automation ------------------------------------------------------------------------

def test_selected_contacts_are_dripped_into_a_workflow_with_a_progress_bar(live_server, team, browser):
    lead_ids = contacts(team["account"], 5, tag="lead")
    contacts(team["account"], 1, tag="other", first_phone=1200)
    workflow_id = published(team["account"], TAG_FLOW)

    page = new_page(browser)
    login(page, live_server, "manager@acme.test", then="/contacts")
    page.get_by_label("Tag").fill("lead")
    page.get_by_label("Tag").press("Enter")
    rows = page.locator("#contacts-body tr")
    expect(rows).to_have_count(5)
    add = page.get_by_role("button", name="Add to Automation")
    expect(add).to_be_disabled()
    page.get_by_label("Select all on this page").check()
    expect(page.locator("#selection-text")).to_have_text("5 contacts selected.")
    add.click()

    dialog = page.locator("#enroll-dialog")
    expect(dialog.locator("#enroll-who")).to_have_text("5 selected contacts.")
    dialog.get_by_label("Workflow").select_option(label="Welcome drip")
    dialog.get_by_label("Drip: in batches, spaced out").check()
    dialog.get_by_label("Batch size").fill("2")
    dialog.get_by_label("Interval", exact=True).fill("1")
    dialog.get_by_label("Interval unit").select_option(label="minutes")
    dialog.get_by_role("button", name="Add", exact=True).click()

    progress, text = dialog.locator("#enroll-progress"), dialog.locator("#enroll-progress-text")
    expect(text).to_have_text("0 of 5 processed: 0 added.")
    run_jobs(live_server.app)  # the first batch is due at once; the others a minute apart
    expect(text).to_have_text("2 of 5 processed: 2 added.")
    expect(progress).to_have_js_property("value", 2)
    expect(dialog).to_have_attribute("data-enroll-state", "running")
    assert run_scheduled_jobs(live_server.app) == 2  # as if the minutes had passed
    run_jobs(live_server.app)
    expect(text).to_have_text("Done: 5 of 5 added to Welcome drip.")
    expect(progress).to_have_js_property("value", 5)
    expect(dialog).to_have_attribute("data-enroll-state", "done")
    assert enrolled(workflow_id) == set(lead_ids)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#selection-bar")).to_be_hidden()


def test_all_contacts_matching_a_filter_are_added_across_pages(live_server, team, browser):
    lead_ids = contacts(team["account"], 27, tag="lead")
    contacts(team["account"], 2, tag="other", first_phone=1200)
    workflow_id = published(team["account"], TAG_FLOW)

    page = new_page(browser)
    login(page, live_server, "admin@acme.test", then="/contacts?tag=lead")
    expect(page.locator("#contacts-body tr")).to_have_count(25)
    expect(page.locator("#contacts-summary")).to_have_text("1–25 of 27")
    page.get_by_label("Select all on this page").check()
    page.get_by_role("button", name="Select all 27 contacts matching this filter").click()
    expect(page.locator("#selection-text")).to_have_text("All 27 contacts matching this filter are selected.")
    page.get_by_role("button", name="Add to Automation").click()

    dialog = page.locator("#enroll-dialog")
    expect(dialog.locator("#enroll-who")).to_have_text("All 27 contacts matching this filter.")
    dialog.get_by_label("Workflow").select_option(label="Welcome drip")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_have_attribute("data-enroll-state", "running")
    run_jobs(live_server.app)
    expect(dialog.locator("#enroll-progress-text")).to_have_text("Done: 27 of 27 added to Welcome drip.")
    assert enrolled(workflow_id) == set(lead_ids)


# --- a contact's conversation ------------------------------------------------------------------

def test_a_contact_page_follows_the_conversation_live(live_server: LiveServer, team, browser, fake_twilio):
    app = live_server.app
    connect_account(app, fake_twilio, team["account"].id)
    fake_twilio.use_client(app.test_client())
    contact_id = make_contact(team["account"], first_name=XSS, phone="+14155551000",
                              assigned_user_id=team["agent"].id, tags=[XSS]).id
    db.session.remove()

    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    expect(page.locator("#contact-title")).to_have_text(XSS)
    expect(page.locator("#contact-tags .tag")).to_contain_text(XSS)
    expect(page.locator("#thread-empty")).to_be_visible()
    wait_live(page)
    wait_watching(page)

    page.get_by_label("Message").fill("Your quote is ready")
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.locator("#thread .message")
    expect(thread).to_have_count(1)
    first = thread.nth(0)
    expect(first.locator(".message-sender")).to_have_text("Alex Agent")
    expect(first.locator(".message-status")).to_have_text("Accepted")
    (sent,) = fake_twilio.created("Messages")

    assert fake_twilio.message_status(sent.sid, "delivered").status == 204
    expect(first.locator(".message-status")).to_have_text("Delivered")

    fake_twilio.fail_next(1, 400, 21211, "The 'To' number is not a valid phone number.")
    page.get_by_label("Message").fill("Second try")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(thread.nth(1).locator(".message-status")).to_have_text("Failed: error 21211")

    reply = fake_twilio.inbound_sms(f"{PUBLIC_URL}/webhooks/twilio/sms", from_="+14155551000", body=XSS)
    assert reply.status == 200
    run_jobs(app)
    expect(thread).to_have_count(3)
    expect(thread.nth(2).locator(".message-body")).to_have_text(XSS)
    expect(thread.nth(2).locator(".message-sender")).to_have_text("Contact")
    expect(page.locator("#thread img")).to_have_count(0)  # user-written text is text, never markup
    assert page.evaluate("document.querySelectorAll('main img').length") == 0


def test_dnd_switches_persist_and_block_the_composer(live_server, team, browser):
    contact_id = make_contact(team["account"], first_name="Grace", assigned_user_id=team["agent"].id).id
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    sms = page.get_by_label("SMS: do not text")
    expect(sms).not_to_be_checked()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()

    sms.check()
    expect(page.locator("#dnd-status")).to_have_text("Saved: SMS do-not-disturb is on.")
    expect(page.locator("#composer-dnd")).to_be_visible()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    page.get_by_label("Calls: do not call").check()
    expect(page.locator("#dnd-status")).to_have_text("Saved: call do-not-disturb is on.")

    page.reload()
    expect(page.get_by_label("SMS: do not text")).to_be_checked()
    expect(page.get_by_label("Calls: do not call")).to_be_checked()
    dnd = db.session.execute(select(Contact.dnd_sms, Contact.dnd_call).where(Contact.id == contact_id)).one()
    db.session.remove()
    assert tuple(dnd) == (True, True)

    page.get_by_label("SMS: do not text").uncheck()
    expect(page.locator("#dnd-status")).to_have_text("Saved: SMS do-not-disturb is off.")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()


def test_an_opt_out_reply_turns_the_switch_on_in_an_open_page(live_server, team, browser):
    from jobqueue import inbound

    contact_id = make_contact(team["account"], first_name="Grace", phone="+14155551000",
                              assigned_user_id=team["agent"].id).id
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    expect(page.get_by_label("SMS: do not text")).not_to_be_checked()
    wait_live(page)
    wait_watching(page)

    event_id, _ = inbound.accept(team["account"].id, {"MessageSid": "SM" + "2" * 32, "From": "+14155551000",
                                                      "To": "+12025550123", "Body": "STOP"})
    inbound.enqueue_processing(event_id)
    db.session.remove()
    run_jobs(live_server.app)
    expect(page.get_by_label("SMS: do not text")).to_be_checked()  # no reload
    expect(page.locator("#dnd-status")).to_contain_text("SMS do-not-disturb is now on")
    expect(page.locator("#composer-dnd")).to_be_visible()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(page.locator("#thread .message")).to_have_count(1)


def test_a_text_is_scheduled_from_the_contact_page_in_their_time_zone(live_server, team, browser):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from builder.models import Message

    contact_id = make_contact(team["account"], first_name="Grace", timezone="Asia/Tokyo",
                              assigned_user_id=team["agent"].id).id
    db.session.remove()
    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then=f"/contacts/{contact_id}")
    page.get_by_label("Message").fill("See you at the demo")
    page.get_by_role("button", name="Schedule", exact=True).click()
    send_at = page.get_by_label("Send at")
    expect(send_at).to_be_focused()
    expect(send_at).to_have_value(re.compile(r"^\d{4}-\d\d-\d\dT\d\d:(00|15|30|45)$"))  # a quarter hour offered
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_hidden()

    local = (datetime.now(ZoneInfo("Asia/Tokyo")) + timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                                               microsecond=0)
    send_at.fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule send").click()
    expect(page.locator("#thread .message")).to_have_count(1)
    expect(page.locator("#thread .message .message-status")).to_contain_text("Scheduled for")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()  # back to sending now
    message = db.session.scalars(select(Message)).one()
    db.session.remove()
    assert message.body == "See you at the demo"
    assert message.send_at == local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# --- Let's Start ---------------------------------------------------------------------------------

def test_lets_start_shows_the_thread_and_a_pending_wait_for_reply(live_server, team, browser):
    account = team["account"]
    contact_id = make_contact(account, first_name="Grace", phone="+14155551000",
                              assigned_user_id=team["agent"].id).id
    quote = make_workflow(account, {"name": "Quote follow-up", "start": "ask", "steps": {
        "ask": {"type": "send_sms", "config": {"message": "Want a quote?"}, "next": "w"},
        "w": {"type": "wait_for_reply", "config": {"timeout_amount": 2, "timeout_unit": "days",
                                                   "replied_next": None, "timeout_next": None}, "next": None}}})
    manual = make_workflow(account, {"name": "Manual follow-up", "start": "m", "steps": {
        "m": {"type": "manual_sms", "config": {"message": "Hi Grace"}, "next": None}}})
    from jobqueue import enroll

    for wf in (quote, manual):
        enroll.create_request(wf, wf.published_version, [contact_id], is_test=False)
    db.session.remove()
    run_jobs(live_server.app)

    page = new_page(browser)
    login(page, live_server, "agent@acme.test", then="/conversations/manual-actions/session")
    waiting = re.compile(r"Waiting for a reply in Quote follow-up since \w+")
    expect(page.locator("#sms-waiting")).to_contain_text(waiting)
    thread = page.locator("#contact-messages .message")
    expect(thread).to_have_count(1)
    expect(thread.nth(0)).to_contain_text("Want a quote?")
    expect(thread.nth(0).locator(".message-sender")).to_have_text("Workflow: Quote follow-up")
    expect(thread.nth(0).locator(".message-status")).to_have_text("Sent")
    wait_live(page)
    wait_watching(page)

    from jobqueue import inbound

    # What the inbound webhook does: store the SMS, enqueue the job that records it.
    event_id, _ = inbound.accept(account.id, {"MessageSid": "SM" + "1" * 32, "From": "+14155551000",
                                              "To": "+12025550123", "Body": "Yes, send it"})
    inbound.enqueue_processing(event_id)
    db.session.remove()
    run_jobs(live_server.app)  # records the reply and resolves the wait
    expect(thread).to_have_count(2)
    expect(thread.nth(1)).to_contain_text("Yes, send it")
    expect(thread.nth(1).locator(".message-sender")).to_have_text("Contact")
    runs = db.session.scalars(select(Enrollment.status).order_by(Enrollment.id)).all()
    db.session.remove()
    assert runs == ["completed", "parked"]  # the wait resolved; the manual SMS still waits for the agent
