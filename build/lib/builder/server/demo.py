"""Demo data for `make run`: a team, contacts, and the product docs' "Assign User
then Manual SMS" workflow, published and run so the agents' queues are full."""

from __future__ import annotations

from sqlalchemy import select

from builder.domain.users import create_user
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


def load() -> str:
    if db.session.scalar(select(User).where(User.email == PEOPLE[0][0])):
        db.session.rollback()  # end the read: on SQLite an open transaction holds the write lock
        return "Demo data already loaded."
    account = Account(name="Demo Co")
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
    db.session.commit()
    ids = [c.id for c in contacts]
    enroll.create_request(follow_up, follow_up.published_version, ids, is_test=False, user_id=admin.id)
    enroll.create_request(calls, calls.published_version, ids[:3], is_test=False, user_id=admin.id)
    return f"Demo data loaded: {len(PEOPLE)} users, {len(contacts)} contacts, 2 workflows running."
