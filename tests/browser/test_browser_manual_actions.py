"""Conversations > Manual Actions in a real browser: the list, Let's Start, and live updates.

Queues are filled by real workflow runs (RQ jobs run in-process); the app is served
on a free port with the Socket.IO message queue on the test Redis.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Call, ManualAction, Message
from jobqueue import enroll
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login, wait_watching
from tests.factories import make_contact, make_workflow, run_jobs

# The pages follow these events already (see test_actions_queued_by_a_workflow_appear_live);
# what is missing is the API side: complete and delete commit without calling builder.live.action_events.publish_action.

LIST = "/conversations/manual-actions"
SESSION = "/conversations/manual-actions/session"
XSS = "<img src=x onerror=alert(1)>"


def sms_graph(name: str, user_id: int) -> dict:
    return {
        "name": name,
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "config": {"user_ids": [user_id]}, "next": "sms"},
            "sms": {"type": "manual_sms", "name": "Follow-up text",
                    "config": {"message": "Hi {{ contact.first_name }}, thanks for reaching out!"}, "next": None},
        },
    }


def call_graph(name: str, user_id: int) -> dict:
    return {
        "name": name,
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "config": {"user_ids": [user_id]}, "next": "call"},
            "call": {"type": "manual_call", "name": "Welcome call", "config": {}, "next": None},
        },
    }


def queue_actions(live: LiveServer, team, graph: dict, people: list[dict]) -> list[int]:
    """Create contacts, run them through a published workflow, return the queued actions' ids."""
    account = team["account"]
    contacts = [make_contact(account, **fields) for fields in people]
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(live.app)
    ids = list(db.session.scalars(select(ManualAction.id).where(ManualAction.workflow_id == wf.id)))
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    assert len(ids) == len(people)
    return ids


def new_page(browser, **kwargs) -> Page:
    return browser.new_context(**kwargs).new_page()


def rows(page: Page):
    return page.locator("#actions-body tr")


def wait_live(page: Page, timeout: float = 5_000) -> None:
    expect(page.locator("[data-live-status]").first).to_have_text("Live", timeout=timeout)


PEOPLE = [
    {"first_name": "Grace", "last_name": "Hopper", "phone": "+14155551001", "timezone": "America/Los_Angeles",
     "email": "grace@example.com", "tags": ["new-lead", "vip"]},
    {"first_name": "Alan", "last_name": "Turing", "phone": "+442071838750", "timezone": "Europe/London"},
    {"first_name": "Katherine", "last_name": "Johnson", "phone": "+12025550124", "timezone": "America/New_York"},
]


def send_edited_sms(agent: Page, live: LiveServer) -> str:
    """Let's Start from the list, edit the prefilled SMS, send it; return the contact texted."""
    login(agent, live, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(3)
    agent.get_by_role("link", name="Let's Start").click()
    agent.wait_for_url(re.compile(re.escape(SESSION)))

    name = agent.locator("#contact-name")
    message = agent.get_by_label("Message", exact=True)
    expect(message).to_have_value(re.compile(r"^Hi (Grace|Alan|Katherine), thanks for reaching out!$"))
    first = name.inner_text()
    expect(agent.locator("#contact-timezone")).not_to_be_empty()
    message.fill(f"Hello {first}, this is Alex from Acme. Edited by hand.")
    agent.get_by_role("button", name="Send", exact=True).click()

    expect(agent.locator("#session-notice")).to_have_text(f"Message sent to {first}.")
    expect(agent.locator("body")).to_have_attribute("data-session-state", "ready")
    expect(name).not_to_have_text(first)
    expect(message).to_have_value(re.compile(r"^Hi \w+, thanks for reaching out!$"))
    return first


def test_agent_sends_an_edited_sms_and_lands_on_the_next_contact(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE)
    first = send_edited_sms(new_page(browser), live_server)
    sent = db.session.scalars(select(Message.body)).all()
    db.session.remove()
    assert sent == [f"Hello {first}, this is Alex from Acme. Edited by hand."]


def test_the_managers_dashboard_count_drops_without_a_reload(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE)
    manager = new_page(browser)
    login(manager, live_server, "manager@acme.test")
    count = manager.locator('#manual-actions-widget [data-count="pending_total"]')
    expect(count).to_have_text("3")
    expect(manager.locator("[data-by-assignee]")).to_contain_text("Alex Agent")
    wait_live(manager)
    manager.evaluate("window.__notReloaded = true")

    send_edited_sms(new_page(browser), live_server)

    expect(count).to_have_text("2")
    expect(manager.locator('[data-count="pending_sms"]')).to_have_text("2")
    assert manager.evaluate("window.__notReloaded") is True


def test_actions_queued_by_a_workflow_appear_live(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:1])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(1)
    calls_only = new_page(browser)
    login(calls_only, live_server, "agent@acme.test", then=f"{LIST}?type=call")
    expect(calls_only.get_by_role("heading", name="No Manual Actions")).to_be_visible()
    manager = new_page(browser)
    login(manager, live_server, "manager@acme.test")
    count = manager.locator('#manual-actions-widget [data-count="pending_total"]')
    expect(count).to_have_text("1")
    for page in (agent, calls_only, manager):
        wait_live(page)

    queue_actions(live_server, team, sms_graph("Second wave", team["agent"].id), PEOPLE[1:3])

    expect(rows(agent)).to_have_count(3)
    expect(rows(agent).filter(has_text="Alan Turing")).to_contain_text("Second wave")
    expect(count).to_have_text("3")
    expect(manager.locator('[data-count="pending_sms"]')).to_have_text("3")
    expect(calls_only.get_by_role("heading", name="No Manual Actions")).to_be_visible()  # filtered out
    expect(rows(calls_only)).to_have_count(0)


def test_a_deleted_action_leaves_an_open_list_in_another_browser(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:2])

    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(2)
    wait_live(agent)

    admin = new_page(browser)
    login(admin, live_server, "admin@acme.test", then=LIST)
    grace_row = rows(admin).filter(has_text="Grace Hopper")
    grace_row.get_by_role("button", name="Delete").click()
    dialog = admin.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Manual SMS for Grace Hopper")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(rows(admin)).to_have_count(1)

    expect(rows(agent).filter(has_text="Grace Hopper")).to_have_count(0)
    expect(rows(agent)).to_have_count(1)
    expect(rows(agent).first).to_contain_text("Alan Turing")


def test_a_dropped_connection_resynchronises_the_list(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("First flow", team["agent"].id), PEOPLE[:1])
    agent = new_page(browser)
    down, sockets = {"on": False}, []

    def websocket(ws):
        if down["on"]:
            return  # a reconnect attempt left hanging, as over a half-open connection: no answer, no close
        ws.connect_to_server()
        sockets.append(ws)

    # The live connection (a WebSocket) runs through this route, so the test can cut it and keep it down.
    agent.route_web_socket(re.compile(r"/socket\.io/"), websocket)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(1)
    wait_live(agent)
    assert sockets, "the live connection should be a WebSocket"

    down["on"] = True
    for ws in sockets:
        ws.close()
    expect(agent.locator("[data-live-status]").first).not_to_have_text("Live")
    queue_actions(live_server, team, sms_graph("Second flow", team["agent"].id), PEOPLE[1:2])
    agent.wait_for_timeout(2500)  # long enough for a reconnect attempt (1 s back-off, with jitter) to hang
    expect(rows(agent)).to_have_count(1)  # its event went out while the page was cut off

    down["on"] = False
    # The page drops the hanging attempt after 5 s and tries again after its back-off (at most 3 s).
    wait_live(agent, timeout=15_000)
    expect(rows(agent)).to_have_count(2)
    expect(rows(agent).filter(has_text="Alan Turing")).to_have_count(1)


def test_the_session_moves_on_when_its_action_is_deleted_elsewhere(live_server, team, browser):
    ids = queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:2])

    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=f"{SESSION}?action_id={ids[0]}")
    expect(agent.locator("body")).to_have_attribute("data-action-id", str(ids[0]))
    wait_live(agent)

    admin = new_page(browser)
    login(admin, live_server, "admin@acme.test", then=LIST)
    admin.locator(f'tr[data-action-id="{ids[0]}"]').get_by_role("button", name="Delete").click()
    admin.locator("#delete-dialog").get_by_role("button", name="Delete").click()

    expect(agent.locator("#session-notice")).to_contain_text("deleted or reassigned")
    expect(agent.locator("body")).to_have_attribute("data-action-id", str(ids[1]))


def test_the_session_shows_an_opt_out_as_it_happens(live_server, team, browser):
    from jobqueue import inbound

    ids = queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:1])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=f"{SESSION}?action_id={ids[0]}")
    expect(agent.locator("body")).to_have_attribute("data-action-id", str(ids[0]))
    expect(agent.locator("#contact-dnd")).to_be_hidden()
    wait_live(agent)
    wait_watching(agent)

    event_id, _ = inbound.accept(team["account"].id, {"MessageSid": "SM" + "3" * 32, "From": PEOPLE[0]["phone"],
                                                      "To": "+12025550123", "Body": "stop"})
    inbound.enqueue_processing(event_id)
    db.session.remove()
    run_jobs(live_server.app)
    expect(agent.locator("#contact-dnd")).to_have_text("This contact asked not to be texted (DND).")
    expect(agent.locator("#contact-messages .message")).to_contain_text(["stop"])


def test_user_written_text_is_shown_as_text(live_server, team, browser):
    ids = queue_actions(live_server, team, sms_graph("<b>bold</b> flow", team["agent"].id),
                        [{"first_name": XSS, "last_name": "", "phone": "+14155551003"}])
    agent = new_page(browser)
    alerts: list[str] = []
    agent.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    login(agent, live_server, "agent@acme.test", then=LIST)

    link = agent.get_by_role("link", name=XSS)
    expect(link).to_be_visible()
    expect(rows(agent).first).to_contain_text("<b>bold</b> flow")
    assert agent.locator("#actions-body img, #actions-body b").count() == 0

    link.click()
    agent.wait_for_url(re.compile(rf"action_id={ids[0]}|{re.escape(SESSION)}"))
    expect(agent.locator("#contact-name")).to_have_text(XSS)
    expect(agent.get_by_label("Message", exact=True)).to_have_value(re.compile(re.escape(XSS)))
    assert agent.locator("main img, main b").count() == 0
    assert alerts == []


def test_the_list_filters(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:2])
    queue_actions(live_server, team, call_graph("Call new signups", team["agent2"].id), PEOPLE[2:])

    manager = new_page(browser)
    login(manager, live_server, "manager@acme.test", then=LIST)
    expect(rows(manager)).to_have_count(3)

    manager.get_by_label("Type").select_option(label="Manual Call")
    expect(rows(manager)).to_have_count(1)
    expect(rows(manager).first).to_contain_text("Katherine Johnson")
    expect(rows(manager).first).to_contain_text("Sam Agent")
    manager.get_by_label("Type").select_option(label="All types")
    expect(rows(manager)).to_have_count(3)

    workflow = manager.get_by_placeholder("Search Workflow")
    workflow.fill("New lead")
    workflow.press("Enter")
    expect(workflow).to_have_value("New lead follow-up")
    expect(rows(manager)).to_have_count(2)
    expect(manager.get_by_role("link", name="Let's Start")).to_have_attribute("href", re.compile(r"workflow_id=\d+"))
    workflow.fill("")
    workflow.press("Enter")
    expect(rows(manager)).to_have_count(3)

    manager.get_by_label("Select Assignee").select_option(label="Sam Agent")
    expect(rows(manager)).to_have_count(1)
    manager.get_by_label("Select Assignee").select_option(label="Select Assignee")

    contact = manager.get_by_placeholder("Search contact")
    contact.press_sequentially("Grac", delay=30)  # no Enter: the filter applies once typing pauses
    expect(rows(manager)).to_have_count(1)
    expect(rows(manager).first).to_contain_text("Grace Hopper")
    assert "contact_id=" in manager.url
    expect(contact).to_have_value("Grac")  # what was typed stays as typed
    contact.fill("")
    expect(rows(manager)).to_have_count(3)
    workflow.press_sequentially("Call new", delay=30)
    expect(rows(manager)).to_have_count(1)
    expect(rows(manager).first).to_contain_text("Katherine Johnson")
    workflow.fill("")
    expect(rows(manager)).to_have_count(3)
    contact.fill("Grace")
    contact.press("Enter")
    expect(rows(manager)).to_have_count(1)

    manager.get_by_label("Status").select_option(label="Completed")
    expect(manager.get_by_role("heading", name="No Manual Actions")).to_be_visible()
    manager.get_by_role("button", name="Clear filters").click()
    expect(rows(manager)).to_have_count(3)

    agent = new_page(browser)
    login(agent, live_server, "agent2@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(1)
    expect(agent.get_by_label("Select Assignee")).to_have_count(0)


def test_the_list_pages(live_server, team, browser):
    people = [{"first_name": f"Person{n:02}", "phone": f"+1415555{1100 + n}"} for n in range(27)]
    queue_actions(live_server, team, sms_graph("Big wave", team["agent"].id), people)
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(25)
    expect(agent.locator("#list-summary")).to_have_text("1–25 of 27")
    expect(agent.get_by_role("button", name="Previous")).to_be_disabled()
    agent.get_by_role("button", name="Next").click()
    expect(rows(agent)).to_have_count(2)
    expect(agent.locator("#list-summary")).to_have_text("26–27 of 27")
    assert "page=2" in agent.url
    agent.reload()
    expect(rows(agent)).to_have_count(2)


def test_phone_width_shows_cards_and_a_play_button(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:1])
    agent = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(1)
    expect(agent.locator("#actions-table thead")).to_be_hidden()
    assert rows(agent).first.evaluate("tr => getComputedStyle(tr).display") == "block"
    expect(agent.get_by_role("link", name="Let's Start")).to_be_hidden()
    play = agent.get_by_role("link", name="Play")
    expect(play).to_be_visible()
    play.click()
    expect(agent.get_by_label("Message", exact=True)).to_have_value(re.compile("^Hi Grace"))
    # Send is on screen without scrolling (the navigation is folded away).
    expect(agent.get_by_role("button", name="Send", exact=True)).to_be_in_viewport()
    # The top navigation folds behind Menu.
    contacts_link = agent.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts")
    expect(contacts_link).to_be_hidden()
    agent.get_by_text("Menu", exact=True).click()
    expect(contacts_link).to_be_visible()


def test_skip_then_all_done(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:2])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    name = agent.locator("#contact-name")
    expect(name).not_to_be_empty()
    first = name.inner_text()
    agent.get_by_role("button", name="Skip").click()
    expect(name).not_to_have_text(first)
    agent.get_by_role("button", name="Skip").click()
    expect(agent.get_by_role("heading", name="No Manual Actions")).to_be_visible()
    expect(agent.get_by_text("You're all done")).to_be_visible()
    agent.get_by_role("link", name="Back to Manual Actions").click()
    agent.wait_for_url(re.compile(re.escape(LIST)))
    expect(rows(agent)).to_have_count(2)  # skipped, not completed


def test_an_sms_the_contact_refused_is_not_sent(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id),
                  [{"first_name": "Dana", "phone": "+14155551004", "dnd_sms": True}])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    expect(agent.locator("#contact-dnd")).to_be_visible()
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator("#sms-error")).to_contain_text("DND")
    expect(agent.locator("#contact-name")).to_have_text("Dana")
    assert db.session.scalars(select(Message)).all() == []
    db.session.remove()


def test_schedule_an_sms_in_the_contacts_time_zone(live_server, team, browser):
    ids = queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[2:])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    agent.get_by_role("button", name="Schedule", exact=True).click()
    expect(agent.locator("#sms-zone")).to_contain_text("America/New_York")
    agent.get_by_label("Send at").fill("2099-01-15T09:30")
    agent.get_by_role("button", name="Schedule send").click()
    # A year at most ahead: the API refuses 2099 and nothing is sent.
    expect(agent.locator("#sms-error")).to_contain_text("year")
    # A time gone by is refused too, rather than sent at once.
    agent.get_by_label("Send at").fill("2020-01-15T09:30")
    agent.get_by_role("button", name="Schedule send").click()
    expect(agent.locator("#sms-error")).to_contain_text("That time has already passed")
    assert db.session.scalars(select(Message)).all() == []
    db.session.remove()
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    local = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)).replace(
        hour=9, minute=30, second=0, microsecond=0)
    agent.get_by_label("Send at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    agent.get_by_role("button", name="Schedule send").click()
    expect(agent.locator("#session-notice")).to_contain_text("scheduled for")
    expect(agent.locator("#session-notice")).to_contain_text("America/New_York")  # not the viewer's zone: named
    message = db.session.scalars(select(Message)).one()
    db.session.remove()
    assert message.manual_action_id == ids[0]
    assert message.send_at == local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_a_call_queue_dials_each_contact_by_itself(live_server, team, browser):
    ids = queue_actions(live_server, team, call_graph("Call new signups", team["agent"].id), PEOPLE[:2])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    dialog = agent.locator("#outcome-dialog")
    for expected, outcome in (("+14155551001", "Interested"), ("+442071838750", "No answer")):
        expect(agent.locator("#call-number")).to_have_text(expected)
        expect(dialog).to_be_visible()  # dialled without a click
        expect(agent.locator("#call-status")).to_contain_text("simulated")
        dialog.get_by_label(outcome, exact=True).check()
        dialog.get_by_role("button", name="Save outcome").click()
    expect(agent.get_by_text("You're all done")).to_be_visible()
    calls = db.session.scalars(select(Call).order_by(Call.id)).all()
    assert [c.manual_action_id for c in calls] == ids
    outcomes = [db.session.get(ManualAction, i).outcome for i in ids]
    db.session.remove()
    assert outcomes == ["interested", "no_answer"]


def test_manual_call_dial_then_outcome(live_server, team, browser):
    ids = queue_actions(live_server, team, call_graph("Call new signups", team["agent"].id), PEOPLE[:1])
    agent = new_page(browser)
    agent.add_init_script("localStorage.setItem('flowdesk.autoDial', 'off')")
    login(agent, live_server, "agent@acme.test", then=SESSION)
    expect(agent.locator("#call-number")).to_have_text("+14155551001")
    expect(agent.get_by_label("Dial automatically when a call comes up")).not_to_be_checked()
    assert db.session.scalar(select(Call)) is None
    db.session.remove()
    agent.get_by_role("button", name="Call", exact=True).click()
    dialog = agent.locator("#outcome-dialog")
    expect(dialog).to_be_visible()
    expect(agent.locator("#call-status")).not_to_have_text("Calling…")
    dialog.get_by_label("Interested", exact=True).check()
    dialog.get_by_label("Notes").fill("Wants a demo on Friday")
    dialog.get_by_role("button", name="Save outcome").click()
    expect(agent.get_by_text("You're all done")).to_be_visible()
    action = db.session.get(ManualAction, ids[0])
    assert (action.status, action.outcome, action.notes) == ("completed", "interested", "Wants a demo on Friday")
    db.session.remove()


def test_the_pages_need_login(live_server, team, browser):
    page = new_page(browser)
    page.goto(live_server.url + LIST)
    expect(page).to_have_url(re.compile("/login"))


def test_a_manager_reassigns_from_the_list_and_the_new_agent_sees_it_live(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id), PEOPLE[:1])
    sam = new_page(browser)
    login(sam, live_server, "agent2@acme.test", then=LIST)
    wait_live(sam)
    expect(sam.locator("#empty-state")).to_be_visible()

    manager = new_page(browser)
    login(manager, live_server, "manager@acme.test", then=LIST)
    expect(rows(manager)).to_have_count(1)
    manager.get_by_role("button", name="Reassign").click()
    expect(manager.locator("#reassign-what")).to_contain_text("now with Alex Agent")
    manager.get_by_label("Assign to").select_option(label="Sam Agent")
    manager.locator("#reassign-confirm").click()
    expect(rows(manager).first).to_contain_text("Sam Agent")
    expect(rows(sam)).to_have_count(1)  # in Sam's open list without a reload
    expect(rows(sam).first).to_contain_text("Grace Hopper")

    # Agents do not reassign.
    expect(sam.get_by_role("button", name="Reassign")).to_have_count(0)


def test_a_test_runs_action_is_marked_test(live_server, team, browser):
    account = team["account"]
    contact = make_contact(account, first_name="Tess", phone="+14155551009", is_test=True)
    wf = make_workflow(account, sms_graph("Tested flow", team["agent"].id))
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=True)
    run_jobs(live_server.app)
    db.session.remove()
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=LIST)
    expect(rows(agent)).to_have_count(1)
    expect(rows(agent).first.locator(".status-test")).to_have_text("Test")


def test_no_phone_in_lets_start_leads_to_the_contacts_form(live_server, team, browser):
    queue_actions(live_server, team, sms_graph("New lead follow-up", team["agent"].id),
                  [{"first_name": "Nora", "last_name": "Nophone", "email": "nora@example.com", "phone": None}])
    agent = new_page(browser)
    login(agent, live_server, "agent@acme.test", then=SESSION)
    expect(agent.get_by_label("Message", exact=True)).to_have_value(re.compile("^Hi Nora"))
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator("#sms-error")).to_contain_text("has no phone number; add one before sending.")
    assert db.session.scalars(select(Message)).all() == []
    db.session.remove()
    agent.locator("#sms-error").get_by_role("link", name="Add a phone number").click()
    expect(agent.get_by_label("Phone", exact=True)).to_be_focused()
