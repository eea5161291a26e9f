"""Settings > Custom fields: defining them (admins), reading them (everyone), and contacts' values."""

from __future__ import annotations

import pytest

from builder.extensions import db
from builder.models import Contact, CustomField
from tests.factories import ApiClient, make_contact, make_outsider, make_workflow

PATH = "/api/settings/custom-fields"
PLAN = {"key": "plan", "label": "Plan", "type": "choice", "choices": ["Basic", "Pro"]}


def define(as_user, *bodies):
    for body in bodies:
        resp = as_user("admin").post(PATH, json=body)
        assert resp.status_code == 201, resp.json


def stored_values(contact_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(Contact, contact_id).custom_fields


def test_admins_define_fields_that_every_role_reads_in_order(app, users, as_user):
    resp = as_user("admin").post(PATH, json={**PLAN, "choices": [" Basic ", "Pro", "Basic"]})
    assert resp.status_code == 201
    assert resp.json == {"key": "plan", "label": "Plan", "type": "choice", "choices": ["Basic", "Pro"]}
    define(as_user, {"key": "renewal", "label": "Renewal date", "type": "date"})
    for role in ("admin", "manager", "agent"):
        listed = as_user(role).get(PATH)
        assert listed.status_code == 200
        assert listed.json == {"fields": [
            {"key": "plan", "label": "Plan", "type": "choice", "choices": ["Basic", "Pro"]},
            {"key": "renewal", "label": "Renewal date", "type": "date", "choices": None}]}


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_manage_fields(app, users, as_user, role):
    define(as_user, PLAN)
    assert as_user(role).post(PATH, json={"key": "x", "label": "X", "type": "text"}).status_code == 403
    assert as_user(role).patch(f"{PATH}/plan", json={"label": "Tier"}).status_code == 403
    assert as_user(role).delete(f"{PATH}/plan").status_code == 403
    assert [f.label for f in db.session.scalars(db.select(CustomField))] == ["Plan"]


def test_another_accounts_fields_are_invisible(app, users, as_user):
    define(as_user, PLAN)
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    assert outsider.get(PATH).json == {"fields": []}
    assert outsider.patch(f"{PATH}/plan", json={"label": "Mine"}).status_code == 404
    assert outsider.delete(f"{PATH}/plan").status_code == 404
    # The same key is free in another account.
    assert outsider.post(PATH, json=PLAN).status_code == 201
    assert as_user("admin").get(PATH).json["fields"][0]["label"] == "Plan"


@pytest.mark.parametrize(("body", "field"), [
    ({**PLAN, "key": "Plan"}, "key"),
    ({**PLAN, "key": "2plan"}, "key"),
    ({**PLAN, "key": "the plan"}, "key"),
    ({**PLAN, "key": "first_name"}, "key"),  # a standard field would hide it
    ({**PLAN, "key": "dnd_email"}, "key"),  # as would a contact column the API takes
    ({**PLAN, "key": "engagement_score"}, "key"),
    ({**PLAN, "type": "colour"}, "type"),
    ({**PLAN, "choices": []}, "choices"),
    ({**PLAN, "choices": [""]}, "choices.0"),
    ({"key": "age", "label": "Age", "type": "number", "choices": ["1"]}, "choices"),
    ({**PLAN, "label": ""}, "label"),
    ({"label": "No key", "type": "text"}, "key"),
])
def test_bad_definitions_are_a_422_naming_the_field(app, users, as_user, body, field):
    resp = as_user("admin").post(PATH, json=body)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["fields"]
    assert db.session.scalar(db.select(db.func.count()).select_from(CustomField)) == 0


def test_a_key_is_unique_in_the_account(app, users, as_user):
    define(as_user, PLAN)
    resp = as_user("admin").post(PATH, json={**PLAN, "label": "Plan again"})
    assert resp.status_code == 422 and "key" in resp.json["error"]["fields"]


def test_patch_changes_label_type_and_choices_but_never_the_key(app, users, as_user):
    define(as_user, PLAN, {"key": "score", "label": "Score", "type": "number"})
    resp = as_user("admin").patch(f"{PATH}/plan", json={"label": "Tier", "choices": ["Gold"], "position": 5})
    assert resp.status_code == 200 and resp.json == {"key": "plan", "label": "Tier", "type": "choice",
                                                     "choices": ["Gold"]}
    assert [f["key"] for f in as_user("admin").get(PATH).json["fields"]] == ["score", "plan"]  # moved last
    resp = as_user("admin").patch(f"{PATH}/plan", json={"key": "tier"})
    assert resp.status_code == 422 and "key" in resp.json["error"]["fields"]
    resp = as_user("admin").patch(f"{PATH}/plan", json={"type": "text"})
    assert resp.json["type"] == "text" and resp.json["choices"] is None
    resp = as_user("admin").patch(f"{PATH}/score", json={"type": "choice"})
    assert resp.status_code == 422 and "choices" in resp.json["error"]["fields"]
    assert as_user("admin").patch(f"{PATH}/nope", json={"label": "X"}).status_code == 404


def test_deleting_keeps_contacts_values(app, account, users, as_user):
    define(as_user, PLAN)
    contact = make_contact(account, custom_fields={"plan": "Pro"})
    assert as_user("admin").delete(f"{PATH}/plan").status_code == 204
    assert as_user("admin").get(PATH).json == {"fields": []}
    assert stored_values(contact.id) == {"plan": "Pro"}


@pytest.mark.parametrize("step", [
    {"type": "send_sms", "config": {"message": "Your plan: {{ contact.plan }}"}},
    {"type": "update_contact_field", "config": {"field": "custom.plan", "value": "Pro"}},
    {"type": "if_else", "config": {"branches": [{"conditions": [
        {"field": "contact.custom.plan", "op": "equals", "value": "Pro"}], "next": None}]}},
])
def test_deleting_a_field_a_published_workflow_uses_is_refused(app, account, users, as_user, step):
    define(as_user, PLAN)
    make_workflow(account, {"name": "Upsell", "start": "s", "steps": {"s": {**step, "next": None}}})
    resp = as_user("admin").delete(f"{PATH}/plan")
    assert resp.status_code == 409
    assert "Upsell" in resp.json["error"]["message"] and resp.json["error"]["workflows"] == ["Upsell"]
    assert [f["key"] for f in as_user("admin").get(PATH).json["fields"]] == ["plan"]


def test_a_draft_or_unrelated_workflow_does_not_block_deleting(app, account, users, as_user):
    define(as_user, PLAN, {"key": "planet", "label": "Planet", "type": "text"})
    step = {"type": "send_sms", "config": {"message": "Hi {{ contact.custom.planet }}"}, "next": None}
    make_workflow(account, {"name": "Space", "start": "s", "steps": {"s": step}})
    make_workflow(account, {"name": "Draft", "start": "s", "steps": {"s": {
        **step, "config": {"message": "{{ contact.custom.plan }}"}}}}, publish=False)
    assert as_user("admin").delete(f"{PATH}/plan").status_code == 204


# --- contacts' values ------------------------------------------------------------------------------

TYPED = [{"key": "plan", "label": "Plan", "type": "choice", "choices": ["Basic", "Pro"]},
         {"key": "seats", "label": "Seats", "type": "number"},
         {"key": "renewal", "label": "Renewal", "type": "date"},
         {"key": "backup_phone", "label": "Backup phone", "type": "phone"},
         {"key": "billing_email", "label": "Billing email", "type": "email"},
         {"key": "notes", "label": "Notes", "type": "text"}]


def test_contact_values_are_checked_and_normalised_by_type(app, account, users, as_user):
    define(as_user, *TYPED)
    resp = as_user("admin").post("/api/contacts", json={"first_name": "Ada", "custom_fields": {
        "plan": "pro", "seats": "12", "renewal": "2027-03-01", "backup_phone": "(415) 555-0100",
        "billing_email": "ada@example.com", "notes": 42}})
    assert resp.status_code == 201, resp.json
    expected = {"plan": "Pro", "seats": 12, "renewal": "2027-03-01", "backup_phone": "+14155550100",
                "billing_email": "ada@example.com", "notes": "42"}
    assert resp.json["custom_fields"] == expected
    assert stored_values(resp.json["id"]) == expected
    resp = as_user("admin").patch(f"/api/contacts/{resp.json['id']}", json={"custom_fields": {
        "seats": 2.5, "plan": None}})
    assert resp.status_code == 200
    kept = {key: value for key, value in expected.items() if key != "plan"}
    assert resp.json["custom_fields"] == {**kept, "seats": 2.5}


@pytest.mark.parametrize(("values", "field"), [
    ({"plan": "Enterprise"}, "custom_fields.plan"),
    ({"seats": "a dozen"}, "custom_fields.seats"),
    ({"seats": True}, "custom_fields.seats"),
    ({"renewal": "01/03/2027"}, "custom_fields.renewal"),
    ({"backup_phone": "12"}, "custom_fields.backup_phone"),
    ({"billing_email": "not-an-email"}, "custom_fields.billing_email"),
    ({"favourite_colour": "red"}, "custom_fields.favourite_colour"),  # not defined
])
def test_bad_contact_values_are_a_422_naming_the_field(app, account, users, as_user, values, field):
    define(as_user, *TYPED)
    contact = make_contact(account)
    resp = as_user("admin").patch(f"/api/contacts/{contact.id}", json={"custom_fields": values})
    assert resp.status_code == 422, resp.json
    assert list(resp.json["error"]["fields"]) == [field]
    assert stored_values(contact.id) == {}


def test_accounts_without_definitions_keep_free_form_values(app, account, users, as_user):
    resp = as_user("admin").post("/api/contacts", json={"first_name": "Ada", "custom_fields": {"anything": "x"}})
    assert resp.status_code == 201 and resp.json["custom_fields"] == {"anything": "x"}
