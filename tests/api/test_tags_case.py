"""Tags compare without regard to case everywhere: one spelling per contact, filters, triggers and actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from builder.extensions import db
from builder.models import Contact, ContactTag, Enrollment, Workflow
from tests.factories import make_contact, make_workflow, run_jobs


def tag_flow(trigger: dict | None, step_type: str = "add_tag", tag: str = "done", **extra) -> dict:
    flow = {"name": f"{step_type} {tag}", "start": "s1",
            "steps": {"s1": {"type": step_type, "config": {"tag": tag}, "next": None}}, **extra}
    if trigger:
        flow["trigger"] = trigger
    return flow


def runs(workflow: Workflow) -> list[Enrollment]:
    return list(db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == workflow.id)))


def tags_of(contact_id: int) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.get(Contact, contact_id).tags)


# --- one spelling per contact ----------------------------------------------------------

def test_a_new_contact_keeps_the_first_spelling_of_each_tag(as_user):
    res = as_user("admin").post("/api/contacts", json={"first_name": "Lin", "tags": ["VIP", "vip", "Lead", "lead"]})
    assert res.status_code == 201, res.json
    assert sorted(res.json["tags"]) == ["Lead", "VIP"]


def test_adding_another_spelling_keeps_the_contacts_own(account, as_user):
    contact = make_contact(account, tags=["vip"])
    res = as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["vip", "VIP", "Gold"]})
    assert res.status_code == 200, res.json
    assert sorted(res.json["tags"]) == ["Gold", "vip"]
    # Replacing the list with another spelling alone keeps the tag as the contact has it.
    res = as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["GOLD"]})
    assert res.json["tags"] == ["Gold"]
    assert tags_of(contact.id) == ["Gold"]


def test_the_database_refuses_a_second_spelling(account):
    contact = make_contact(account, tags=["vip"])
    db.session.add(ContactTag(contact_id=contact.id, tag="VIP"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- triggers --------------------------------------------------------------------------

def test_another_spelling_of_a_tag_the_contact_has_fires_nothing(account, as_user):
    added = make_workflow(account, tag_flow({"type": "contact_tag_added", "config": {"tag": "vip"}}))
    removed = make_workflow(account, tag_flow({"type": "contact_tag_removed", "config": {"tag": "vip"}}))
    contact = make_contact(account, tags=["vip"])
    assert as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["VIP"]}).status_code == 200
    assert runs(added) == [] and runs(removed) == []

    assert as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": []}).status_code == 200
    assert len(runs(removed)) == 1
    assert as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["Vip"]}).status_code == 200
    assert len(runs(added)) == 1  # the trigger says "vip": any spelling starts it


# --- filters ---------------------------------------------------------------------------

def test_the_tag_filter_ignores_case(account, as_user):
    shouting = make_contact(account, first_name="Shout", phone="+14155550101", tags=["VIP"])
    quiet = make_contact(account, first_name="Quiet", phone="+14155550102", tags=["vip"])
    make_contact(account, first_name="Other", phone="+14155550103", tags=["vipx"])
    for tag in ("vip", "VIP", "Vip"):
        res = as_user("manager").get(f"/api/contacts?tag={tag}")
        assert res.status_code == 200
        assert sorted(c["id"] for c in res.json["items"]) == sorted([shouting.id, quiet.id])


def test_enrolling_by_a_tag_filter_ignores_case(app, account, as_user):
    workflow = make_workflow(account, tag_flow(None))
    make_contact(account, first_name="Shout", phone="+14155550101", tags=["VIP"])
    make_contact(account, first_name="Other", phone="+14155550103", tags=["lead"])
    res = as_user("manager").post(f"/api/workflows/{workflow.id}/enroll", json={"filter": {"tag": "vip"}})
    assert res.status_code in (200, 201, 202), res.json
    assert res.json["total"] == 1


# --- the engine's actions ----------------------------------------------------------------

def test_add_tag_in_another_spelling_keeps_one_tag(app, account, as_user):
    contact = make_contact(account, tags=["vip"])
    workflow = make_workflow(account, tag_flow(None, "add_tag", "VIP"))
    res = as_user("admin").post(f"/api/workflows/{workflow.id}/enroll", json={"contact_ids": [contact.id]})
    assert res.status_code in (200, 201, 202), res.json
    run_jobs(app)
    assert tags_of(contact.id) == ["vip"]
    assert [r.status for r in runs(workflow)] == ["completed"]


def test_remove_tag_in_another_spelling_removes_it(app, account, as_user):
    contact = make_contact(account, tags=["vip", "lead"])
    workflow = make_workflow(account, tag_flow(None, "remove_tag", "VIP"))
    as_user("admin").post(f"/api/workflows/{workflow.id}/enroll", json={"contact_ids": [contact.id]})
    run_jobs(app)
    assert tags_of(contact.id) == ["lead"]


def test_if_else_has_tag_ignores_case(app, account, as_user):
    contact = make_contact(account, tags=["Vip"])
    flow = {"name": "Branch", "start": "b", "steps": {
        "b": {"type": "if_else", "config": {"branches": [{"name": "VIP", "match": "all", "next": "yes",
                                                          "conditions": [{"field": "contact.tags", "op": "has_tag",
                                                                          "value": "vip"}]}],
                                            "else_next": "no"}, "next": None},
        "yes": {"type": "add_tag", "config": {"tag": "took-yes"}, "next": None},
        "no": {"type": "add_tag", "config": {"tag": "took-no"}, "next": None}}}
    workflow = make_workflow(account, flow)
    as_user("admin").post(f"/api/workflows/{workflow.id}/enroll", json={"contact_ids": [contact.id]})
    run_jobs(app)
    assert tags_of(contact.id) == ["Vip", "took-yes"]


# --- the migration ---------------------------------------------------------------------

def test_upgrading_keeps_one_spelling_of_each_tag(tmp_path, redis_url):
    """0018 merges the spellings a contact got before tags ignored case, then the unique index holds."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from builder import config
    from builder.models import Account
    from tests.factories import app_config, insert_early_contacts

    app = create_app(app_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0017")
        with db.engine.begin() as conn:
            conn.execute(Account.__table__.insert(), [{"id": 1, "name": "Acme"}])
            insert_early_contacts(conn, 1, [1, 2])
            conn.execute(ContactTag.__table__.insert(), [
                {"contact_id": 1, "tag": tag} for tag in ("VIP", "vip", "Vip", "lead")] + [
                {"contact_id": 2, "tag": "vip"}])
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT contact_id, tag FROM contact_tags ORDER BY contact_id, tag")).all()
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(ContactTag.__table__.insert(), [{"contact_id": 2, "tag": "VIP"}])
        db.engine.dispose()
    assert sorted(rows) == [(1, "VIP"), (1, "lead"), (2, "vip")]  # the spelling that sorts first stays
