"""Demo data for `make run`: a team, contacts, and the product docs' "Assign User
then Manual SMS" workflow, published and run so the agents' queues are full; and a
"Welcome new customers" workflow that assigns, emails (the console provider), posts to a
webhook (the demo's own "CRM intake" workflow, so no outside server is needed), notifies
the assignee and creates a task; and a "Spring offer" split test that texts one of two
messages, waits for a reply (a goal meets the contacts who answer where they wait),
formats the name, works out a renewal date and hands everyone to "Nurture"."""

from __future__ import annotations

import json

from sqlalchemy import select

from builder.domain.users import create_user
from builder.domain.workflow_hooks import hook_path
from builder.domain.workflows import create_workflow
from builder.extensions import db
from builder.models import Account, Contact, ContactTag, User
from jobqueue import enroll

PASSWORD = "flowdesk-demo"
PEOPLE = [
    ("admin@flowdesk.test", "admin", "Avery Admin"),
    ("manager@flowdesk.test", "manager", "Morgan Manager"),
    ("agent@flowdesk.test", "agent", "Alex Agent"),
    ("agent2@flowdesk.test", "agent", "Sam Agent"),
]
CONTACTS = [
    ("Grace", "Hopper", "grace@example.com", "+14155551001", "America/Los_Angeles"),
    ("Alan", "Turing", "alan@example.com", "+442071838750", "Europe/London"),
    ("Ada", "Lovelace", "", "+12025550123", "America/New_York"),
    ("Linus", "Pauling", "linus@example.com", "+14155551002", "America/Los_Angeles"),
    ("Katherine", "Johnson", "kj@example.com", "+12025550124", "America/New_York"),
    ("Edsger", "Dijkstra", "", "+31205550100", "Europe/Amsterdam"),
    ("Barbara", "Liskov", "barbara@example.com", "+16175550100", "America/New_York"),
    ("Margaret", "Hamilton", "mh@example.com", "+16175550101", "America/New_York"),
]


def follow_up_graph(agent_ids: list[int]) -> dict:
    return {
        "name": "New lead follow-up",
        "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "name": "Assign to the sales team",
                       "config": {"user_ids": agent_ids, "only_unassigned": True}, "next": "sms"},
            "sms": {"type": "manual_sms", "name": "Manual follow-up SMS",
                    "config": {"message": "Hi {{ contact.first_name }}, thanks for reaching out! "
                                          "When is a good time to talk?"}, "next": "branch"},
            "branch": {"type": "if_else", "name": "Has an email?", "config": {
                "branches": [{"name": "Has email", "next": "tag",
                              "conditions": [{"field": "contact.email", "op": "is_not_empty"}]}],
                "else_next": "call"}},
            "tag": {"type": "add_tag", "config": {"tag": "followed-up"}, "next": None},
            "call": {"type": "manual_call", "name": "Call for an email address", "config": {}, "next": None},
        },
    }


def call_graph(agent_ids: list[int]) -> dict:
    return {
        "name": "Call new signups",
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "config": {"user_ids": agent_ids}, "next": "call"},
            "call": {"type": "manual_call", "name": "Welcome call", "config": {}, "next": "note"},
            "note": {"type": "add_note", "config": {"body": "Welcome call done."}, "next": None},
        },
    }


def intake_graph() -> dict:
    """Stands in for a CRM: what the welcome workflow posts arrives at this workflow's inbound webhook."""
    return {
        "name": "CRM intake (demo webhook receiver)",
        "trigger": {"type": "inbound_webhook", "config": {"field_map": {"phone": "phone"}}},
        "start": "tag",
        "steps": {"tag": {"type": "add_tag", "name": "Mark as in the CRM", "config": {"tag": "in-crm"},
                          "next": None}},
    }


def welcome_graph(agent_ids: list[int], crm_url: str) -> dict:
    contact = {"phone": "{{ contact.phone }}", "name": "{{ contact.name }}", "email": "{{ contact.email }}"}
    return {
        "name": "Welcome new customers",
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "config": {"user_ids": agent_ids, "only_unassigned": True},
                       "next": "email"},
            "email": {"type": "send_email", "name": "Welcome email", "config": {
                "subject": "Welcome to Demo Co, {{ contact.first_name }}",
                "text_body": "Hi {{ contact.first_name }},\n\nThanks for choosing Demo Co. Someone from our team "
                             "will call you this week.\n\nDemo Co"}, "next": "crm"},
            "crm": {"type": "webhook", "name": "Send to the CRM",
                    "config": {"method": "POST", "url": crm_url, "body": json.dumps(contact)}, "next": "notify"},
            "notify": {"type": "internal_notification", "name": "Tell the owner", "config": {
                "recipients": "assigned_user", "title": "New customer: {{ contact.name }}",
                "body": "The welcome email has gone out; a welcome call is on your task list."}, "next": "task"},
            "task": {"type": "add_task", "name": "Welcome call task", "config": {
                "title": "Welcome call: {{ contact.name }}", "assign_to": "contact_owner",
                "due": "after", "due_amount": 1, "due_unit": "days"}, "next": None},
        },
    }


def nurture_graph() -> dict:
    return {"name": "Nurture", "trigger": {"type": "manual", "config": {}}, "start": "tag",
            "steps": {"tag": {"type": "add_tag", "name": "Mark as nurtured", "config": {"tag": "nurtured"},
                              "next": None}}}


def spring_offer_graph(nurture_id: int) -> dict:
    """The split test of the product docs: two texts 50/50, a short wait, a "replied" goal after it."""
    return {
        "name": "Spring offer (split test)",
        "trigger": {"type": "manual", "config": {}},
        "start": "split",
        "steps": {
            "split": {"type": "split", "name": "Which text?", "config": {"paths": [
                {"name": "Discount", "percent": 50, "next": "a"}, {"name": "Free month", "percent": 50, "next": "b"}]}},
            "a": {"type": "send_sms", "name": "Discount text", "next": "wait",
                  "config": {"message": "Hi {{ contact.first_name }}, spring is 10% off at Demo Co. Interested?"}},
            "b": {"type": "send_sms", "name": "Free month text", "next": "wait",
                  "config": {"message": "Hi {{ contact.first_name }}, your next month at Demo Co is on us. Want it?"}},
            "wait": {"type": "wait", "name": "Give them time", "config": {"amount": 2, "unit": "minutes"},
                     "next": "nudge"},
            "nudge": {"type": "add_tag", "name": "No reply yet", "config": {"tag": "no-reply"}, "next": "goal"},
            "goal": {"type": "goal_event", "name": "Replied", "config": {"goal": "replied", "if_not_met": "continue"},
                     "next": "name"},
            "name": {"type": "text_formatter", "name": "Name in title case",
                     "config": {"operation": "title", "text": "{{ contact.first_name }}"}, "next": "renewal"},
            "renewal": {"type": "math_operation", "name": "Renewal date",
                        "config": {"operation": "date_add", "value": "today", "amount": "30", "unit": "days"},
                        "next": "note"},
            "note": {"type": "add_note", "name": "Note the renewal",
                     "config": {"body": "{{ steps.name.value }}'s offer renews on {{ steps.renewal.value }}."},
                     "next": "hand"},
            "hand": {"type": "add_to_workflow", "name": "On to Nurture",
                     "config": {"workflow_id": nurture_id, "end_this_workflow": True}, "next": None},
        },
    }


def load(base_url: str = "http://127.0.0.1:5000") -> str:
    """`base_url` is where the web server listens: the welcome workflow's webhook posts there."""
    if db.session.scalar(select(User).where(User.email == PEOPLE[0][0])):
        db.session.rollback()  # end the read: on SQLite an open transaction holds the write lock
        return "Demo data already loaded."
    # Quiet hours off: the demo's texts and emails go out at whatever hour someone runs it (a new account
    # has them on; Settings > Messaging turns them back on here too).
    account = Account(name="Demo Co", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.flush()
    people = {email: create_user(email, role, PASSWORD, name, account) for email, role, name in PEOPLE}
    agents = [people["agent@flowdesk.test"].id, people["agent2@flowdesk.test"].id]
    contacts = []
    for first, last, email, phone, tz in CONTACTS:
        contact = Contact(account_id=account.id, first_name=first, last_name=last, email=email or None,
                          phone=phone, timezone=tz)
        contact.tag_rows.append(ContactTag(tag="new-lead"))
        contacts.append(contact)
    db.session.add_all(contacts)
    admin = people["admin@flowdesk.test"]
    follow_up = create_workflow(account.id, follow_up_graph(agents), author_id=admin.id)
    calls = create_workflow(account.id, call_graph(agents), author_id=admin.id)
    intake = create_workflow(account.id, intake_graph(), author_id=admin.id)
    welcome = create_workflow(
        account.id, welcome_graph(agents, base_url.rstrip("/") + hook_path(intake.id, intake.hook_secret)),
        author_id=admin.id)
    nurture = create_workflow(account.id, nurture_graph(), author_id=admin.id)
    offer = create_workflow(account.id, spring_offer_graph(nurture.id), author_id=admin.id)
    db.session.commit()
    ids = [c.id for c in contacts]
    enroll.create_request(follow_up, follow_up.published_version, ids, is_test=False, user_id=admin.id)
    enroll.create_request(calls, calls.published_version, ids[:3], is_test=False, user_id=admin.id)
    enroll.create_request(welcome, welcome.published_version, ids[3:], is_test=False, user_id=admin.id)
    enroll.create_request(offer, offer.published_version, ids, is_test=False, user_id=admin.id)
    return f"Demo data loaded: {len(PEOPLE)} users, {len(contacts)} contacts, 6 workflows (4 running)."
