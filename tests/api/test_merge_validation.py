"""The builder refuses merge fields that name nothing: a misspelt {{ contact.favourite_colour }} must
never save, publish and send "Hello " to a real contact."""

from __future__ import annotations

import pytest

from builder.extensions import db
from builder.models import CustomField, Workflow
from tests.factories import make_outsider, make_workflow


def sms_flow(message: str, *, step: str = "greet", kind: str = "send_sms", field: str = "message") -> dict:
    return {"name": "Greeting", "start": step, "steps": {
        step: {"type": kind, "config": {field: message, **({"field": "first_name"} if field == "value" else {})},
               "next": None}}}


@pytest.fixture
def colour(account):
    db.session.add(CustomField(account_id=account.id, key="colour", label="Colour", type="text"))
    db.session.commit()


def test_a_misspelt_merge_field_is_a_422_naming_step_field_and_name(app, account, users, as_user, colour):
    wf = make_workflow(account, sms_flow("Hello"), publish=False)
    resp = as_user("manager").put(f"/api/workflows/{wf.id}", json=sms_flow("Hello {{ contact.favourite_colour }}"))
    assert resp.status_code == 422
    error = resp.json["error"]
    assert list(error["fields"]) == ["steps.greet.config.message"]
    assert "contact.favourite_colour" in error["fields"]["steps.greet.config.message"][0]
    assert error["message"].startswith("steps.greet.config.message: Unknown merge field contact.favourite_colour")
    db.session.expire_all()
    assert len(db.session.get(Workflow, wf.id).versions) == 1  # nothing saved


@pytest.mark.parametrize("template", [
    "Hello {{ contact.first_name }} {{ contact.name }} {{ contact.tags[0] }} {{ contact.phone }}",
    "Your colour: {{ contact.custom.colour }} / {{ contact.colour | upper }}",
    "{% if contact.colour %}{{ contact.colour }}{% else %}no colour{% endif %}",
    'Hi {{ contact.first_name | default("there") }}',
])
def test_standard_and_defined_fields_save(app, account, users, as_user, colour, template):
    resp = as_user("manager").post("/api/workflows", json=sms_flow(template))
    assert resp.status_code == 201, resp.json


@pytest.mark.parametrize(("template", "unknown"), [
    ("{{ contact.custom.favourite_colour }}", "contact.custom.favourite_colour"),
    ("{% if contact.vip %}VIP{% endif %}", "contact.vip"),
    ("{{ contact.firstname | default('there') }}", "contact.firstname"),
    ("{{ contact.custom['the colour'] }}", "contact.custom['the colour']"),
])
def test_unknown_names_anywhere_in_a_template_are_refused(app, account, users, as_user, colour, template, unknown):
    resp = as_user("manager").post("/api/workflows", json=sms_flow(template))
    assert resp.status_code == 422
    assert unknown in resp.json["error"]["fields"]["steps.greet.config.message"][0]


@pytest.mark.parametrize(("kind", "field"), [("add_note", "body"), ("add_tag", "tag"),
                                             ("update_contact_field", "value"), ("manual_sms", "message")])
def test_every_template_field_is_checked(app, account, users, as_user, colour, kind, field):
    resp = as_user("manager").post("/api/workflows", json=sms_flow("x {{ contact.nope }}", kind=kind, field=field))
    assert resp.status_code == 422
    assert f"steps.greet.config.{field}" in resp.json["error"]["fields"]


def test_publish_refuses_a_version_whose_custom_field_has_gone(app, account, users, as_user, colour):
    wf = make_workflow(account, sms_flow("Hi {{ contact.custom.colour }}"), publish=False)
    db.session.execute(db.delete(CustomField))
    db.session.commit()
    db.session.add(CustomField(account_id=account.id, key="size", label="Size", type="text"))
    db.session.commit()
    resp = as_user("manager").post(f"/api/workflows/{wf.id}/publish", json={})
    assert resp.status_code == 422
    assert "contact.custom.colour" in resp.json["error"]["fields"]["steps.greet.config.message"][0]
    db.session.expire_all()
    assert db.session.get(Workflow, wf.id).published_version_id is None


def test_accounts_without_custom_fields_keep_free_form_custom_keys(app, account, users, as_user):
    ok = as_user("manager").post("/api/workflows", json=sms_flow("Plan: {{ contact.custom.plan }}"))
    assert ok.status_code == 201
    # The short form contact.<key> reaches defined fields only, so a typo there is still caught.
    resp = as_user("manager").post("/api/workflows", json=sms_flow("Hello {{ contact.favourite_colour }}"))
    assert resp.status_code == 422


def test_another_accounts_fields_do_not_count(app, account, users, as_user):
    other = make_outsider("admin")
    db.session.add(CustomField(account_id=other.account_id, key="colour", label="Colour", type="text"))
    db.session.add(CustomField(account_id=account.id, key="size", label="Size", type="text"))
    db.session.commit()
    resp = as_user("manager").post("/api/workflows", json=sms_flow("{{ contact.colour }}"))
    assert resp.status_code == 422


def test_update_contact_fields_picker_offers_the_contacts_fields(app, users, as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    field = next(f for f in types["update_contact_field"]["fields"] if f["name"] == "field")
    assert field["kind"] == "text" and field["suggest"] == "contact_fields"
