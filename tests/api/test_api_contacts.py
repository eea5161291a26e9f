"""Contacts API: E.164 phones, validation, role rules, account isolation, paging and filters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.domain.phones import normalize_phone
from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, Contact, Enrollment, ExecutionLog, ManualAction
from jobqueue import enroll
from tests.factories import ApiClient, make_contact, make_workflow, run_jobs

MANUAL_SMS = {
    "name": "Call back",
    "start": "s1",
    "steps": {"s1": {"type": "manual_sms", "config": {"message": "Hi"}, "next": None}},
}


# --- normalize_phone -----------------------------------------------------

@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+12025550123", "US", "+12025550123"),
    ("(202) 555-0123", "US", "+12025550123"),
    ("202.555.0123", "US", "+12025550123"),
    ("+1 415 555 1000", "GB", "+14155551000"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 20 7946 0958", "US", "+442079460958"),
])
def test_normalize_phone_returns_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "123", "+1 555 555 5555", "+999 1234567", "1" * 300])
def test_normalize_phone_rejects_with_a_readable_message(raw):
    with pytest.raises(ValueError) as info:
        normalize_phone(raw, "US")
    assert "phone number" in str(info.value) or "country code" in str(info.value)


# --- create / read -------------------------------------------------------

def test_create_normalises_phone_and_returns_every_field(as_user, users):
    res = as_user("admin").post("/api/contacts", json={
        "first_name": " Grace ", "last_name": "Hopper", "email": "grace@example.com", "phone": "(202) 555-0123",
        "timezone": "America/New_York", "tags": ["vip", "lead", "vip"], "custom_fields": {"plan": "pro", "seats": 3},
        "assigned_user_id": users["agent"].id, "dnd_sms": True,
    })
    assert res.status_code == 201, res.json
    body = res.json
    assert body["phone"] == "+12025550123"
    assert body["first_name"] == "Grace"
    assert body["tags"] == ["lead", "vip"]
    assert body["custom_fields"] == {"plan": "pro", "seats": 3}
    assert body["assigned_user_id"] == users["agent"].id
    assert (body["dnd_sms"], body["dnd_call"], body["is_test"]) == (True, False, False)
    assert {"id", "created_at", "updated_at", "timezone"} <= body.keys()
    stored = db.session.get(Contact, body["id"])
    assert stored.phone == "+12025550123" and stored.account_id == users["admin"].account_id
    assert as_user("admin").get(f"/api/contacts/{body['id']}").json == body


def test_phone_uses_default_region(app, as_user):
    app.config["DEFAULT_PHONE_REGION"] = "GB"
    res = as_user("admin").post("/api/contacts", json={"first_name": "Alan", "phone": "020 7946 0958"})
    assert res.status_code == 201 and res.json["phone"] == "+442079460958"


def test_invalid_phone_is_422_naming_the_field(as_user):
    res = as_user("admin").post("/api/contacts", json={"first_name": "Bad", "phone": "+1 555 555 5555"})
    assert res.status_code == 422
    error = res.json["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["phone"]
    assert "phone" in error["message"]
    assert db.session.scalar(select(Contact)) is None


@pytest.mark.parametrize(("body", "field"), [
    ({"first_name": "A", "timezone": "Mars/Olympus"}, "timezone"),
    ({"first_name": "A", "timezone": "America"}, "timezone"),
    ({"first_name": "A", "email": "not-an-email"}, "email"),
    ({"first_name": "A", "tags": "vip"}, "tags"),
    ({"first_name": "A", "tags": [""]}, "tags.0"),
    ({"first_name": "A", "custom_fields": {"nested": {"a": 1}}}, "custom_fields.nested.value"),
    ({"first_name": "A", "custom_fields": {"list": [1]}}, "custom_fields.list.value"),
    ({"first_name": "A\x00"}, "first_name"),
    ({"first_name": "x" * 101}, "first_name"),
    ({"first_name": "A", "assigned_user_id": "7"}, "assigned_user_id"),
    ({"first_name": "A", "colour": "red"}, "colour"),
])
def test_invalid_fields_are_422_naming_them(as_user, body, field):
    res = as_user("admin").post("/api/contacts", json=body)
    assert res.status_code == 422, res.json
    assert field in res.json["error"]["fields"]


def test_a_contact_needs_a_name_email_or_phone(as_user):
    res = as_user("admin").post("/api/contacts", json={"tags": ["x"]})
    assert res.status_code == 422
    assert "name, an email or a phone" in res.json["error"]["message"]


def test_assignee_must_be_an_active_user_of_the_account(as_user, users):
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    outsider = create_user("out@other.test", "agent", "pw", "Out", other)
    users["agent2"].active = False
    db.session.commit()
    for user_id in (outsider.id, users["agent2"].id, 999999):
        res = as_user("admin").post("/api/contacts", json={"first_name": "A", "assigned_user_id": user_id})
        assert res.status_code == 422
        assert list(res.json["error"]["fields"]) == ["assigned_user_id"]
    res = as_user("admin").post("/api/contacts", json={"first_name": "A", "assigned_user_id": users["manager"].id})
    assert res.status_code == 201


# --- update / delete -----------------------------------------------------

def test_patch_replaces_tags_and_merges_custom_fields(as_user, account):
    contact = make_contact(account, tags=["a", "b"], custom_fields={"plan": "free", "seats": 1})
    res = as_user("manager").patch(f"/api/contacts/{contact.id}", json={
        "tags": ["b", "c"], "custom_fields": {"plan": "pro", "seats": None, "source": "web"}, "phone": "202-555-0123",
    })
    assert res.status_code == 200, res.json
    assert res.json["tags"] == ["b", "c"]
    assert res.json["custom_fields"] == {"plan": "pro", "source": "web"}
    assert res.json["phone"] == "+12025550123"
    assert res.json["first_name"] == "Ada"  # untouched
    res = as_user("manager").patch(f"/api/contacts/{contact.id}", json={"tags": [], "phone": "", "email": ""})
    assert (res.json["tags"], res.json["phone"], res.json["email"]) == ([], None, None)


def test_patch_invalid_phone_changes_nothing(as_user, account):
    contact = make_contact(account)
    res = as_user("admin").patch(f"/api/contacts/{contact.id}", json={"phone": "12", "first_name": "Zed"})
    assert res.status_code == 422 and "phone" in res.json["error"]["fields"]
    db.session.expire_all()
    assert (contact.phone, contact.first_name) == ("+14155551000", "Ada")


def test_delete_is_soft_and_hides_the_contact(as_user, account):
    contact = make_contact(account)
    admin = as_user("admin")
    assert admin.delete(f"/api/contacts/{contact.id}").status_code == 204
    assert admin.get(f"/api/contacts/{contact.id}").status_code == 404
    assert admin.patch(f"/api/contacts/{contact.id}", json={"first_name": "B"}).status_code == 404
    assert admin.delete(f"/api/contacts/{contact.id}").status_code == 404
    assert admin.get("/api/contacts").json["total"] == 0
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).deleted_at is not None


def test_delete_cancels_parked_runs_and_their_actions(app, as_user, account, users):
    wf = make_workflow(account, MANUAL_SMS)
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    assert db.session.scalar(select(Enrollment)).status == "parked"
    assert as_user("admin").delete(f"/api/contacts/{contact.id}").status_code == 204
    run_jobs(app)
    db.session.expire_all()
    run = db.session.scalar(select(Enrollment))
    assert run.status == "cancelled" and run.error == "the contact was deleted"
    last = db.session.scalar(select(ExecutionLog).order_by(ExecutionLog.id.desc()).limit(1))
    assert (last.outcome, last.error) == ("cancelled", "the contact was deleted")
    action = db.session.scalar(select(ManualAction))
    assert action.status == "deleted" and action.deleted_at is not None
    assert as_user("agent").get("/api/manual-actions").json["total"] == 0


# --- roles and accounts --------------------------------------------------

def test_agents_see_and_edit_only_their_own_contacts(as_user, account, users):
    mine = make_contact(account, first_name="Mine", assigned_user_id=users["agent"].id)
    theirs = make_contact(account, first_name="Theirs", assigned_user_id=users["agent2"].id)
    nobody = make_contact(account, first_name="Nobody")
    agent = as_user("agent")
    listed = agent.get("/api/contacts").json
    assert [c["id"] for c in listed["items"]] == [mine.id] and listed["total"] == 1
    assert agent.get(f"/api/contacts/{mine.id}").status_code == 200
    for other in (theirs, nobody):
        assert agent.get(f"/api/contacts/{other.id}").status_code == 404
        assert agent.patch(f"/api/contacts/{other.id}", json={"first_name": "X"}).status_code == 404
    res = agent.patch(f"/api/contacts/{mine.id}", json={"last_name": "Updated", "dnd_call": True})
    assert res.status_code == 200 and res.json["last_name"] == "Updated" and res.json["dnd_call"] is True
    # Keeping the assignment is fine; changing it is a manager's job.
    assert agent.patch(f"/api/contacts/{mine.id}", json={"assigned_user_id": users["agent"].id}).status_code == 200
    res = agent.patch(f"/api/contacts/{mine.id}", json={"assigned_user_id": users["agent2"].id})
    assert res.status_code == 403 and res.json["error"]["code"] == "forbidden"


def test_agents_may_not_create_or_delete(as_user, account, users):
    mine = make_contact(account, assigned_user_id=users["agent"].id)
    agent = as_user("agent")
    res = agent.post("/api/contacts", json={"first_name": "New"})
    assert res.status_code == 403 and res.json["error"]["code"] == "forbidden"
    assert agent.post("/api/contacts", json={"phone": "nonsense"}).status_code == 403  # role before validation
    assert agent.delete(f"/api/contacts/{mine.id}").status_code == 403
    assert db.session.scalar(select(Contact).where(Contact.first_name == "New")) is None


def test_managers_see_every_contact_of_their_account_only(client, as_user, account, users):
    ours = make_contact(account, assigned_user_id=users["agent"].id)
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    theirs = make_contact(other, first_name="Stranger")
    outsider = ApiClient(client, create_user("boss@other.test", "admin", "pw", "Boss", other))
    manager = as_user("manager")
    assert [c["id"] for c in manager.get("/api/contacts").json["items"]] == [ours.id]
    for call in (manager.get, manager.delete):
        assert call(f"/api/contacts/{theirs.id}").status_code == 404
    assert manager.patch(f"/api/contacts/{theirs.id}", json={"first_name": "X"}).status_code == 404
    assert [c["id"] for c in outsider.get("/api/contacts").json["items"]] == [theirs.id]
    assert outsider.get(f"/api/contacts/{ours.id}").status_code == 404
    assert as_user("admin").get("/api/contacts/99999999999999999999").status_code == 404


# --- list: paging and filters --------------------------------------------

def test_pagination_newest_first_with_total(as_user, account):
    ids = [make_contact(account, first_name=f"C{i}").id for i in range(7)]
    admin = as_user("admin")
    first = admin.get("/api/contacts?per_page=3").json
    assert (first["total"], first["page"], first["per_page"]) == (7, 1, 3)
    assert [c["id"] for c in first["items"]] == ids[::-1][:3]
    last = admin.get("/api/contacts?per_page=3&page=3").json
    assert [c["id"] for c in last["items"]] == [ids[0]] and last["total"] == 7
    assert admin.get("/api/contacts?per_page=3&page=4").json["items"] == []
    for bad in ("page=0", "per_page=0", "per_page=201", "page=x"):
        res = admin.get(f"/api/contacts?{bad}")
        assert res.status_code == 422 and res.json["error"]["fields"], bad


def test_search_matches_name_email_and_phone(as_user, account):
    grace = make_contact(account, first_name="Grace", last_name="Hopper", email="grace@navy.test",
                         phone="+12025550123")
    ada = make_contact(account, first_name="Ada", last_name="Lovelace", email="ada@engine.test",
                       phone="+14155551000")
    admin = as_user("admin")

    def found(q: str) -> list[int]:
        return [c["id"] for c in admin.get("/api/contacts", query_string={"q": q}).json["items"]]

    assert found("grace") == [grace.id]
    assert found("HOPPER") == [grace.id]
    assert found("Ada Lovelace") == [ada.id]
    assert found("engine.test") == [ada.id]
    assert found("415") == [ada.id]
    assert found("(202) 555-0123") == [grace.id]
    assert found("+1") == [ada.id, grace.id]
    assert found("Ada Hopper") == []
    assert found("100%") == []  # LIKE wildcards are matched literally
    assert found("_") == []


def test_filter_by_tag_and_assignee(as_user, account, users):
    agent_id = users["agent"].id
    vip = make_contact(account, tags=["vip"], assigned_user_id=agent_id)
    lead = make_contact(account, tags=["lead", "vip"])
    make_contact(account, tags=["lead"], assigned_user_id=users["agent2"].id)
    admin = as_user("admin")
    by_tag = admin.get("/api/contacts?tag=vip").json
    assert [c["id"] for c in by_tag["items"]] == [lead.id, vip.id] and by_tag["total"] == 2
    assert [c["id"] for c in admin.get(f"/api/contacts?assigned_user_id={agent_id}").json["items"]] == [vip.id]
    both = admin.get(f"/api/contacts?tag=lead&assigned_user_id={agent_id}").json
    assert both["items"] == [] and both["total"] == 0
    # An agent asking for someone else's contacts simply gets none.
    assert as_user("agent").get(f"/api/contacts?assigned_user_id={users['agent2'].id}").json["total"] == 0


def test_filter_test_contacts(as_user, account):
    real = make_contact(account, first_name="Real")
    tester = make_contact(account, first_name="Tester", is_test=True)
    admin = as_user("admin")
    assert [c["id"] for c in admin.get("/api/contacts?is_test=true").json["items"]] == [tester.id]
    assert [c["id"] for c in admin.get("/api/contacts?is_test=false").json["items"]] == [real.id]
    assert admin.get("/api/contacts").json["total"] == 2
    assert admin.get("/api/contacts?is_test=maybe").status_code == 422
