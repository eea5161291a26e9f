"""The contact actions through the REST API: the catalogue lists them, a workflow using every one saves
and reads back as sent, and a bad config is a 422 naming the step and the field."""

import copy

import pytest

from engine.graph import load_graph
from tests.factories import make_contact

NEW_TYPES = {
    "create_contact": "Create Contact",
    "find_contact": "Find Contact",
    "remove_assigned_user": "Remove Assigned User",
    "set_dnd": "Disable/Enable DND",
    "delete_contact": "Delete Contact",
    "modify_engagement_score": "Modify Contact Engagement Score",
}

GRAPH = {
    "name": "Every contact action",
    "trigger": {"type": "manual", "config": {}},
    "start": "create",
    "steps": {
        "create": {"type": "create_contact", "config": {
            "first_name": "{{ contact.custom.partner_first }}", "last_name": "", "email": "",
            "phone": "{{ contact.custom.partner_phone }}",
            "custom_fields": [{"field": "custom.referred_by", "value": "{{ contact.name }}"}],
            "if_exists": "skip"}, "next": "find"},
        "find": {"type": "find_contact", "config": {
            "by": "custom_field", "custom_field": "custom.member_id", "value": "{{ contact.custom.member_id }}",
            "found_next": "score", "not_found_next": "unassign"}, "next": None},
        "score": {"type": "modify_engagement_score", "config": {"operation": "subtract", "amount": 5},
                  "next": "dnd"},
        "dnd": {"type": "set_dnd", "config": {"channel": "email", "dnd": "off"}, "next": None},
        "unassign": {"type": "remove_assigned_user", "config": {}, "next": "delete"},
        "delete": {"type": "delete_contact", "config": {}, "next": None},
    },
}


def with_step(step_id: str, config: dict) -> dict:
    graph = copy.deepcopy(GRAPH)
    graph["steps"][step_id]["config"] = config
    return graph


def test_the_catalogue_lists_every_contact_action(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    for type_id, label in NEW_TYPES.items():
        assert (types[type_id]["label"], types[type_id]["category"]) == (label, "Contact")
        assert types[type_id]["description"]
    assert types["find_contact"]["exits"] == {"kind": "named", "exits": [
        {"field": "found_next", "label": "Found"}, {"field": "not_found_next", "label": "Not found"}]}
    assert types["delete_contact"]["exits"] == {"kind": "none"}
    phone = next(f for f in types["create_contact"]["fields"] if f["name"] == "phone")
    assert phone["required_if"] == {"field": "email", "value": ""}  # the form asks for a phone or an email


def test_a_workflow_with_every_contact_action_saves_and_reads_back(as_user):
    api = as_user("admin")
    resp = api.post("/api/workflows", json=GRAPH)
    assert resp.status_code == 201, resp.json
    stored = api.get(f"/api/workflows/{resp.json['id']}").json["graph"]
    assert stored == load_graph(GRAPH)
    assert {sid: s["config"] for sid, s in stored["steps"].items()} == {
        sid: s["config"] for sid, s in GRAPH["steps"].items()}  # sent complete: nothing added or lost
    assert {s["type"] for s in stored["steps"].values()} == set(NEW_TYPES)


def test_defaults_are_filled_in(as_user):
    graph = {"name": "Defaults", "trigger": {"type": "manual", "config": {}}, "start": "c", "steps": {
        "c": {"type": "create_contact", "config": {"email": "{{ contact.custom.partner_email }}"}, "next": "f"},
        "f": {"type": "find_contact", "config": {"value": "{{ contact.phone }}"}, "next": None},
    }}
    resp = as_user("admin").post("/api/workflows", json=graph)
    assert resp.status_code == 201, resp.json
    steps = resp.json["graph"]["steps"]
    assert steps["c"]["config"] == {"first_name": "", "last_name": "", "email": "{{ contact.custom.partner_email }}",
                                    "custom_fields": [], "if_exists": "update"}
    assert steps["f"]["config"] == {"by": "phone", "custom_field": None, "value": "{{ contact.phone }}",
                                    "found_next": None, "not_found_next": None}


@pytest.mark.parametrize("step_id, config, field, message", [
    ("create", {"first_name": "Ann"}, "phone", "Give a phone or an email"),
    ("create", {"phone": "   ", "email": ""}, "phone", "Give a phone or an email"),
    ("create", {"phone": "{{ contact.phone", "if_exists": "update"}, "phone", "Merge field error"),
    ("create", {"phone": "+14155551000", "if_exists": "merge"}, "if_exists", "Must be one of"),
    ("create", {"phone": "+14155551000", "custom_fields": [{"field": "plan", "value": "x"}]},
     "custom_fields.0.field", "custom.<key>"),
    ("create", {"phone": "+14155551000", "custom_fields": [{"field": "custom.plan", "value": "a"},
                                                           {"field": "custom.plan", "value": "b"}]},
     "custom_fields", "once"),
    ("find", {"by": "custom_field", "value": "x", "found_next": None, "not_found_next": None},
     "custom_field", "Name the custom field"),
    ("find", {"by": "fax", "value": "x"}, "by", "Must be one of"),
    ("find", {"by": "phone", "value": ""}, "value", "Length must be between 1"),
    ("dnd", {"channel": "fax"}, "channel", "Must be one of"),
    ("dnd", {"channel": "sms", "dnd": "maybe"}, "dnd", "Must be one of"),
    ("score", {"operation": "multiply", "amount": 2}, "operation", "Must be one of"),
    ("score", {"operation": "add", "amount": -1}, "amount", "greater than or equal to 0"),
    ("score", {"operation": "add", "amount": "5"}, "amount", "Not a valid integer"),
    ("unassign", {"user_id": 3}, "user_id", "Unknown field"),
])
def test_a_bad_config_is_a_422_naming_the_step_and_field(as_user, step_id, config, field, message):
    resp = as_user("admin").post("/api/workflows", json=with_step(step_id, config))
    assert resp.status_code == 422, resp.json
    path = f"steps.{step_id}.config.{field}"
    assert path in resp.json["error"]["fields"], resp.json
    assert message in " ".join(resp.json["error"]["fields"][path])


def test_an_unknown_custom_field_in_a_merge_value_is_refused_once_the_account_defines_fields(as_user):
    admin = as_user("admin")
    assert admin.post("/api/settings/custom-fields", json={"key": "member_id", "label": "Member",
                                                           "type": "text"}).status_code == 201
    resp = admin.post("/api/workflows", json=GRAPH)
    assert resp.status_code == 422
    assert "steps.create.config.phone" in resp.json["error"]["fields"]


def test_contacts_show_email_dnd_and_the_score(app, account, as_user):
    contact = make_contact(account, engagement_score=12)
    api = as_user("manager")
    body = api.get(f"/api/contacts/{contact.id}").json
    assert (body["dnd_email"], body["engagement_score"]) == (False, 12)
    body = api.patch(f"/api/contacts/{contact.id}", json={"dnd_email": True}).json
    assert body["dnd_email"] is True
    # The score is moved by workflows: the API does not take it.
    resp = api.patch(f"/api/contacts/{contact.id}", json={"engagement_score": 99})
    assert resp.status_code == 422 and "engagement_score" in resp.json["error"]["fields"]
    created = api.post("/api/contacts", json={"first_name": "Eve", "dnd_email": True}).json
    assert (created["dnd_email"], created["engagement_score"]) == (True, 0)
    spec = api.get("/api/openapi.json").json
    contact_schema = spec["components"]["schemas"]["Contact"]["properties"]
    assert contact_schema["engagement_score"]["readOnly"] is True and "dnd_email" in contact_schema


def test_the_csv_export_has_the_new_columns(app, account, as_user):
    make_contact(account, dnd_email=True, engagement_score=-4)
    text = as_user("admin").get("/api/contacts/export.csv").get_data(as_text=True)
    header, row = text.splitlines()[:2]
    columns = header.split(",")
    values = dict(zip(columns, row.split(","), strict=False))
    assert (values["dnd_email"], values["engagement_score"]) == ("True", "-4")
