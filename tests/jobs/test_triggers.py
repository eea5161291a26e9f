"""Triggers: contact created, tag added/removed, and the inbound webhook start published workflows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import Contact, Enrollment, Workflow
from builder.web.workflow_hooks import hook_secret
from engine.triggers import CUSTOMER_REPLIED, TAG_ADDED, Event, keyword_match, matches
from tests.factories import make_contact, make_workflow, run_jobs


def graph(trigger_type: str, config: dict | None = None, *, tag: str = "welcomed", **settings) -> dict:
    return {
        "name": f"On {trigger_type}",
        "trigger": {"type": trigger_type, "config": config or {}},
        "settings": settings,
        "start": "s1",
        "steps": {"s1": {"type": "add_tag", "config": {"tag": tag}, "next": None}},
    }


def runs(workflow: Workflow, contact_id: int | None = None) -> list[Enrollment]:
    query = select(Enrollment).where(Enrollment.workflow_id == workflow.id)
    if contact_id is not None:
        query = query.where(Enrollment.contact_id == contact_id)
    return list(db.session.scalars(query.order_by(Enrollment.id)))


# --- the pure rules ------------------------------------------------------

def test_tags_match_whatever_the_case_and_only_their_own_type():
    trigger = {"type": TAG_ADDED, "config": {"tag": "New-Lead"}}
    assert matches(trigger, Event(TAG_ADDED, 1, "k", tag="new-lead"))
    assert not matches(trigger, Event(TAG_ADDED, 1, "k", tag="new-leads"))
    assert not matches(trigger, Event("contact_tag_removed", 1, "k", tag="new-lead"))


@pytest.mark.parametrize(("keywords", "text", "expected"), [
    ([], "anything at all", True),
    (["yes"], "YES please", True),
    (["yes"], "yesterday", False),
    (["call me"], "ok, call me later", True),
    (["price", "cost"], "what does it COST?", True),
    (["stop"], "", False),
])
def test_reply_keywords_match_whole_words(keywords, text, expected):
    assert keyword_match(keywords, text) is expected
    trigger = {"type": CUSTOMER_REPLIED, "config": {"keywords": keywords}}
    assert matches(trigger, Event(CUSTOMER_REPLIED, 1, "k", text=text)) is expected


# --- contact created -----------------------------------------------------

def test_creating_a_contact_runs_published_contact_created_workflows(app, account, as_user):
    live = make_workflow(account, graph("contact_created"))
    draft = make_workflow(account, graph("contact_created"), publish=False)
    other = make_workflow(account, graph("contact_tag_added", {"tag": "vip"}))

    res = as_user("admin").post("/api/contacts", json={"first_name": "Lin", "phone": "+14155550100"})
    assert res.status_code == 201, res.json
    contact_id = res.json["id"]
    assert [r.status for r in runs(live, contact_id)] == ["active"]
    assert runs(draft) == [] and runs(other) == []

    run_jobs(app)
    db.session.expire_all()
    assert [r.status for r in runs(live, contact_id)] == ["completed"]
    assert "welcomed" in db.session.get(Contact, contact_id).tags


def test_tags_given_at_creation_fire_tag_added(app, account, as_user):
    workflow = make_workflow(account, graph("contact_tag_added", {"tag": "VIP"}))
    res = as_user("manager").post("/api/contacts", json={"first_name": "Lin", "phone": "+14155550100",
                                                          "tags": ["vip", "lead"]})
    assert res.status_code == 201
    assert len(runs(workflow, res.json["id"])) == 1


# --- tags ----------------------------------------------------------------

def test_adding_and_removing_tags_fire_their_workflows(app, account, as_user):
    added = make_workflow(account, graph("contact_tag_added", {"tag": "hot"}))
    removed = make_workflow(account, graph("contact_tag_removed", {"tag": "hot"}, tag="cooled"))
    contact = make_contact(account, tags=["lead"])
    api = as_user("admin")

    assert api.patch(f"/api/contacts/{contact.id}", json={"tags": ["lead", "warm"]}).status_code == 200
    assert runs(added) == [] and runs(removed) == []

    assert api.patch(f"/api/contacts/{contact.id}", json={"tags": ["lead", "hot"]}).status_code == 200
    assert len(runs(added)) == 1 and runs(removed) == []

    assert api.patch(f"/api/contacts/{contact.id}", json={"first_name": "Same tags"}).status_code == 200
    assert len(runs(added)) == 1

    assert api.patch(f"/api/contacts/{contact.id}", json={"tags": ["lead"]}).status_code == 200
    assert len(runs(removed)) == 1
    run_jobs(app)
    db.session.expire_all()
    assert {"welcomed", "cooled"} <= set(db.session.get(Contact, contact.id).tags)


def test_a_contact_enters_once_unless_the_workflow_allows_reentry(app, account, as_user):
    once = make_workflow(account, graph("contact_tag_added", {"tag": "hot"}))
    again = make_workflow(account, graph("contact_tag_added", {"tag": "hot"}, allow_reentry=True))
    contact = make_contact(account)
    api = as_user("admin")
    for _ in range(2):
        assert api.patch(f"/api/contacts/{contact.id}", json={"tags": ["hot"]}).status_code == 200
        run_jobs(app)
        assert api.patch(f"/api/contacts/{contact.id}", json={"tags": []}).status_code == 200
    db.session.expire_all()
    assert len(runs(once)) == 1
    assert [r.status for r in runs(again)] == ["completed", "completed"]


def test_an_open_run_is_never_doubled(app, account, as_user):
    workflow = make_workflow(account, graph("contact_tag_added", {"tag": "hot"}, allow_reentry=True))
    contact = make_contact(account)
    api = as_user("admin")
    api.patch(f"/api/contacts/{contact.id}", json={"tags": ["hot"]})
    api.patch(f"/api/contacts/{contact.id}", json={"tags": []})
    api.patch(f"/api/contacts/{contact.id}", json={"tags": ["hot"]})  # the first run has not run yet
    assert [r.status for r in runs(workflow)] == ["active"]


def test_test_contacts_never_fire_live_workflows(app, account, as_user):
    workflow = make_workflow(account, graph("contact_tag_added", {"tag": "hot"}))
    contact = make_contact(account, is_test=True)
    assert as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["hot"]}).status_code == 200
    assert runs(workflow) == []


def test_triggers_stay_inside_their_account(app, account, as_user):
    from builder.models import Account

    elsewhere = Account(name="Elsewhere")
    db.session.add(elsewhere)
    db.session.commit()
    theirs = make_workflow(elsewhere, graph("contact_created"))
    as_user("admin").post("/api/contacts", json={"first_name": "Lin", "phone": "+14155550100"})
    assert runs(theirs) == []


def test_a_failed_enqueue_leaves_the_run_for_the_reconciler(app, account, as_user, caplog):
    workflow = make_workflow(account, graph("contact_created"))
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down
    res = as_user("admin").post("/api/contacts", json={"first_name": "Lin", "phone": "+14155550100"})
    assert res.status_code == 201  # the contact is saved all the same
    assert [r.status for r in runs(workflow)] == ["active"]  # the reconciler's stale-active pass starts it
    assert "the reconciler will start them" in caplog.text


# --- inbound webhook -----------------------------------------------------

WEBHOOK = graph("inbound_webhook", {"field_map": {"first": "first_name", "lead.phone": "phone", "plan": "custom.plan",
                                                  "mail": "email"}})


def hook(workflow: Workflow, secret: str | None = None) -> str:
    return f"/hooks/workflows/{workflow.id}/{secret or hook_secret(workflow.id)}"


def test_webhook_creates_the_contact_fills_fields_and_enrolls(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    created = make_workflow(account, graph("contact_created", tag="from-created"))
    res = client.post(hook(workflow), json={"first": "Noor", "lead": {"phone": "(415) 555-0199"}, "plan": "pro",
                                            "ignored": "x"})
    assert res.status_code == 202, res.json
    contact = db.session.get(Contact, res.json["contact_id"])
    assert (contact.first_name, contact.phone, contact.custom_fields) == ("Noor", "+14155550199", {"plan": "pro"})
    assert res.json["created"] is True
    assert len(runs(workflow, contact.id)) == 1 and len(runs(created, contact.id)) == 1
    run_jobs(app)
    db.session.expire_all()
    assert "welcomed" in db.session.get(Contact, contact.id).tags


def test_webhook_updates_the_contact_it_finds_by_phone(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    existing = make_contact(account, first_name="Old", phone="+14155550199")
    res = client.post(hook(workflow), json={"first": "New", "lead": {"phone": "+1 415 555 0199"}})
    assert res.status_code == 202
    assert res.json == {"contact_id": existing.id, "created": False, "enrollment_ids": res.json["enrollment_ids"]}
    db.session.expire_all()
    assert db.session.get(Contact, existing.id).first_name == "New"
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"first": "A", "lead": {"phone": "12"}}, 422, "lead.phone"),
    ({"first": "No way to find them"}, 422, None),
    (["not", "an", "object"], 400, None),
])
def test_webhook_rejects_bad_payloads_and_changes_nothing(app, account, client, body, status, field):
    workflow = make_workflow(account, WEBHOOK)
    res = client.post(hook(workflow), json=body)
    assert res.status_code == status
    assert res.json["error"]["message"]
    if field:
        assert field in res.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert runs(workflow) == []


def test_webhook_needs_the_right_secret_and_a_published_webhook_workflow(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    assert client.post(hook(workflow, "0" * 32), json={"mail": "a@b.co"}).status_code == 404
    assert client.post(f"/hooks/workflows/{workflow.id + 99}/{hook_secret(workflow.id)}",
                       json={"mail": "a@b.co"}).status_code == 404
    draft = make_workflow(account, WEBHOOK, publish=False)
    assert client.post(hook(draft), json={"mail": "a@b.co"}).status_code == 409
    tagged = make_workflow(account, graph("contact_tag_added", {"tag": "x"}))
    assert client.post(hook(tagged), json={"mail": "a@b.co"}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_newly_published_version_is_what_the_next_event_listens_with(app, account, as_user):
    """Published graphs are cached per version: publishing another version must change what fires at once."""
    from builder.domain import workflows

    workflow = make_workflow(account, graph("contact_tag_added", {"tag": "first"}))
    api = as_user("manager")
    before, after = make_contact(account, first_name="Before"), make_contact(account, first_name="After")
    assert api.patch(f"/api/contacts/{before.id}", json={"tags": ["first"]}).status_code == 200
    assert len(runs(workflow, before.id)) == 1  # the first version is now cached

    workflows.save_version(workflow, graph("contact_tag_added", {"tag": "second"}), author_id=None)
    workflows.publish(workflow, None, by=None)
    db.session.commit()
    assert api.patch(f"/api/contacts/{after.id}", json={"tags": ["first"]}).status_code == 200
    assert runs(workflow, after.id) == []
    assert api.patch(f"/api/contacts/{after.id}", json={"tags": ["first", "second"]}).status_code == 200
    assert len(runs(workflow, after.id)) == 1
