"""One way a contact is born: the API, the inbound-webhook trigger and an SMS from an unknown
number all go through builder.domain.contacts.create_contact, so each fires "contact created"."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

import jobqueue.replies  # noqa: F401  (registers the reactions, as the worker does)
from builder.domain import contacts
from builder.domain.errors import Invalid
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Contact, Enrollment, Workflow
from jobqueue import inbound
from jobqueue.effects import carry_out_committed
from tests.factories import make_contact, make_workflow, run_jobs

_sids = itertools.count(1)


def tagging(trigger: dict, tag: str) -> dict:
    return {"name": f"On {trigger['type']}", "trigger": trigger, "start": "t",
            "steps": {"t": {"type": "add_tag", "config": {"tag": tag}, "next": None}}}


def runs(workflow: Workflow) -> list[Enrollment]:
    return list(db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == workflow.id)))


def sms(account, phone: str, body: str = "hello?", sid: str | None = None) -> inbound.InboundSms | None:
    event_id, _ = inbound.accept(account.id, {"MessageSid": sid or f"SMC{next(_sids):031d}", "From": phone,
                                              "To": "+15005550006", "Body": body})
    return inbound.process_event(event_id)


def test_an_sms_from_an_unknown_number_creates_a_contact_that_fires_contact_created(app, account):
    created = make_workflow(account, tagging({"type": "contact_created", "config": {}}, "greeted"))
    received = sms(account, "+14155553100")
    assert received.new_contact
    (run,) = runs(created)
    assert run.contact_id == received.contact_id
    run_jobs(app)
    db.session.expire_all()
    assert db.session.get(Contact, received.contact_id).tags == ["greeted"]


def test_an_sms_from_a_known_number_fires_no_contact_created(app, account):
    created = make_workflow(account, tagging({"type": "contact_created", "config": {}}, "greeted"))
    known = make_contact(account, phone="+14155553101")
    received = sms(account, "+14155553101")
    assert received.contact_id == known.id and not received.new_contact
    assert runs(created) == []


def test_the_same_sms_delivered_twice_makes_one_contact_and_one_run(app, account):
    created = make_workflow(account, tagging({"type": "contact_created", "config": {}}, "greeted"))
    first = sms(account, "+14155553102", sid="SM" + "7" * 32)
    again = sms(account, "+14155553102", sid="SM" + "7" * 32)
    assert first is not None and again is None
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == "+14155553102")) == 1
    assert len(runs(created)) == 1


def test_create_contact_fires_contact_created_and_tag_added_and_hands_the_runs_to_after_commit(app, account):
    created = make_workflow(account, tagging({"type": "contact_created", "config": {}}, "greeted"))
    tagged = make_workflow(account, tagging({"type": "contact_tag_added", "config": {"tag": "lead"}}, "tagged"))
    after = AfterCommit()
    contact = contacts.create_contact(account.id, {"first_name": "Ana", "tags": ["lead"]}, after)
    db.session.commit()
    assert sorted(after.started) == sorted(r.id for r in runs(created) + runs(tagged))
    assert [len(runs(created)), len(runs(tagged))] == [1, 1]
    carry_out_committed(after)
    run_jobs(app)
    db.session.expire_all()
    assert sorted(db.session.get(Contact, contact.id).tags) == ["greeted", "lead", "tagged"]


def test_create_contact_refuses_an_assignee_from_another_account(app, account, users):
    from builder.domain.users import create_user
    from builder.models import Account

    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    stranger = create_user("stranger@other.test", "agent", "pw-pw-pw-pw", "Stranger", other)
    try:
        contacts.create_contact(account.id, {"first_name": "Ana", "assigned_user_id": stranger.id}, AfterCommit())
    except Invalid as exc:
        assert exc.status == 422 and list(exc.fields) == ["assigned_user_id"]
    else:
        raise AssertionError("another account's user was accepted as the assignee")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
