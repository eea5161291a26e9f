"""Settings > Custom values: defining them (admins), reading them (everyone), the audit log, and the
workflows that read ({{ custom_values.<key> }}) or set (Update Custom Value) them."""

from __future__ import annotations

import pytest

from builder.extensions import db
from builder.models import AuditEvent, CustomValue, Workflow
from tests.factories import ApiClient, make_outsider, make_workflow

PATH = "/api/settings/custom-values"
ADDRESS = {"key": "office_address", "value": "1 Main St"}


def define(as_user, *bodies):
    for body in bodies:
        resp = as_user("admin").post(PATH, json=body)
        assert resp.status_code == 201, resp.json


def listed(as_user, role: str = "admin") -> list[tuple[str, str]]:
    resp = as_user(role).get(PATH)
    assert resp.status_code == 200
    return [(item["key"], item["value"]) for item in resp.json["values"]]


def sms_flow(message: str, name: str = "Greeting") -> dict:
    return {"name": name, "start": "greet", "steps": {"greet": {"type": "send_sms", "config": {"message": message},
                                                                "next": None}}}


def set_flow(key: str, value: str = "new", name: str = "Setter") -> dict:
    return {"name": name, "start": "set", "steps": {"set": {"type": "update_custom_value",
                                                            "config": {"key": key, "value": value}, "next": None}}}


def test_admins_define_values_that_every_role_reads_by_key(app, users, as_user):
    resp = as_user("admin").post(PATH, json={"key": "offer", "value": "  10% off  "})
    assert resp.status_code == 201
    assert (resp.json["key"], resp.json["value"]) == ("offer", "10% off") and resp.json["updated_at"]
    define(as_user, ADDRESS)
    for role in ("admin", "manager", "agent"):
        assert listed(as_user, role) == [("offer", "10% off"), ("office_address", "1 Main St")]


def test_admins_change_a_value_and_the_key_stays(app, users, as_user):
    define(as_user, ADDRESS)
    resp = as_user("admin").patch(f"{PATH}/office_address", json={"value": "2 High St", "key": "elsewhere"})
    assert resp.status_code == 422  # the key is fixed: an unknown field
    resp = as_user("admin").patch(f"{PATH}/office_address", json={"value": "2 High St"})
    assert resp.status_code == 200 and resp.json["value"] == "2 High St"
    assert as_user("admin").patch(f"{PATH}/office_address", json={"value": ""}).status_code == 200
    assert listed(as_user) == [("office_address", "")]
    row = db.session.scalar(db.select(CustomValue))
    assert row.updated_by_id == users["admin"].id


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_manage_values(app, users, as_user, role):
    define(as_user, ADDRESS)
    assert as_user(role).post(PATH, json={"key": "x", "value": "y"}).status_code == 403
    assert as_user(role).patch(f"{PATH}/office_address", json={"value": "Mine"}).status_code == 403
    assert as_user(role).delete(f"{PATH}/office_address").status_code == 403
    assert listed(as_user) == [("office_address", "1 Main St")]


def test_another_accounts_values_are_invisible(app, users, as_user):
    define(as_user, ADDRESS)
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    assert outsider.get(PATH).json == {"values": []}
    assert outsider.patch(f"{PATH}/office_address", json={"value": "Mine"}).status_code == 404
    assert outsider.delete(f"{PATH}/office_address").status_code == 404
    assert outsider.post(PATH, json=ADDRESS).status_code == 201  # the same key is free in another account
    assert listed(as_user) == [("office_address", "1 Main St")]


@pytest.mark.parametrize(("body", "field"), [
    ({"key": "Office", "value": "x"}, "key"),
    ({"key": "1st", "value": "x"}, "key"),
    ({"key": "office address", "value": "x"}, "key"),
    ({"key": "k" * 65, "value": "x"}, "key"),
    ({"value": "x"}, "key"),
    ({"key": "office"}, "value"),
    ({"key": "office", "value": "x" * 2001}, "value"),
    ({"key": "office", "value": "a\x00b"}, "value"),
])
def test_bad_keys_and_values_are_a_422_naming_the_field(app, users, as_user, body, field):
    resp = as_user("admin").post(PATH, json=body)
    assert resp.status_code == 422
    assert field in resp.json["error"]["fields"]
    assert listed(as_user) == []


def test_a_key_is_unique_in_the_account(app, users, as_user):
    define(as_user, ADDRESS)
    resp = as_user("admin").post(PATH, json={**ADDRESS, "value": "again"})
    assert resp.status_code == 422
    assert "already" in resp.json["error"]["fields"]["key"][0]
    assert listed(as_user) == [("office_address", "1 Main St")]


def test_an_account_holds_at_most_200_values(app, account, users, as_user):
    db.session.add_all(CustomValue(account_id=account.id, key=f"v{n}", value="") for n in range(200))
    db.session.commit()
    resp = as_user("admin").post(PATH, json=ADDRESS)
    assert resp.status_code == 422 and "at most 200" in resp.json["error"]["fields"]["key"][0]


def test_changes_are_in_the_audit_log(app, users, as_user):
    define(as_user, ADDRESS)
    as_user("admin").patch(f"{PATH}/office_address", json={"value": "2 High St"})
    as_user("admin").patch(f"{PATH}/office_address", json={"value": "2 High St"})  # no change: no row
    as_user("admin").delete(f"{PATH}/office_address")
    rows = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(r.action, r.target_type, r.target_label, r.actor_id) for r in rows] == [
        ("settings.custom_value_created", "settings", "office_address", users["admin"].id),
        ("settings.custom_value_updated", "settings", "office_address", users["admin"].id),
        ("settings.custom_value_deleted", "settings", "office_address", users["admin"].id)]


# --- workflows that read or set them --------------------------------------------------------------

@pytest.mark.parametrize("flow", [
    sms_flow("Visit us at {{ custom_values.office_address }}", name="Directions"),
    sms_flow("{% if custom_values['office_address'] %}See you{% endif %}", name="Directions"),
    set_flow("office_address", name="Directions"),
])
def test_deleting_a_value_a_published_workflow_reads_or_sets_is_a_409_naming_it(app, account, users, as_user,
                                                                               flow):
    define(as_user, ADDRESS)
    make_workflow(account, flow)
    resp = as_user("admin").delete(f"{PATH}/office_address")
    assert resp.status_code == 409
    assert "Directions" in resp.json["error"]["message"] and resp.json["error"]["workflows"] == ["Directions"]
    assert listed(as_user) == [("office_address", "1 Main St")]


def test_a_draft_or_unrelated_workflow_does_not_block_deleting(app, account, users, as_user):
    define(as_user, ADDRESS, {"key": "office", "value": "HQ"})
    make_workflow(account, sms_flow("At {{ custom_values.office }}"))
    make_workflow(account, sms_flow("{{ custom_values.office_address }}", name="Draft"), publish=False)
    assert as_user("admin").delete(f"{PATH}/office_address").status_code == 204
    assert listed(as_user) == [("office", "HQ")]


@pytest.mark.parametrize(("graph", "field", "words"), [
    (sms_flow("Visit {{ custom_values.ofice_address }}"), "steps.greet.config.message",
     "Unknown custom value custom_values.ofice_address"),
    (sms_flow("{{ custom_values.office_address }} {{ custom_values['nope'] | upper }}"), "steps.greet.config.message",
     "Unknown custom value custom_values.nope"),
    (sms_flow("{{ custom_values }}"), "steps.greet.config.message", "Name a custom value"),
    (set_flow("ofice_address"), "steps.set.config.key", "Unknown custom value ofice_address"),
    (set_flow("office_address", "{{ custom_values.nope }}"), "steps.set.config.value",
     "Unknown custom value custom_values.nope"),
])
def test_unknown_custom_values_are_a_422_naming_step_field_and_key(app, account, users, as_user, graph, field,
                                                                   words):
    define(as_user, ADDRESS)
    resp = as_user("manager").post("/api/workflows", json=graph)
    assert resp.status_code == 422
    assert list(resp.json["error"]["fields"]) == [field]
    assert words in resp.json["error"]["fields"][field][0]
    assert db.session.scalar(db.select(db.func.count()).select_from(Workflow)) == 0


def test_known_custom_values_save(app, account, users, as_user):
    define(as_user, ADDRESS)
    graph = sms_flow("Hi {{ contact.first_name }}, visit {{ custom_values.office_address | upper }}")
    assert as_user("manager").post("/api/workflows", json=graph).status_code == 201, graph
    assert as_user("manager").post("/api/workflows", json=set_flow("office_address", "{{ contact.name }}")
                                   ).status_code == 201


def test_publish_refuses_a_version_whose_custom_value_has_gone(app, account, users, as_user):
    define(as_user, ADDRESS)
    wf = make_workflow(account, sms_flow("At {{ custom_values.office_address }}"), publish=False)
    assert as_user("admin").delete(f"{PATH}/office_address").status_code == 204  # a draft does not block it
    resp = as_user("manager").post(f"/api/workflows/{wf.id}/publish", json={})
    assert resp.status_code == 422
    assert "custom_values.office_address" in resp.json["error"]["fields"]["steps.greet.config.message"][0]
    db.session.expire_all()
    assert db.session.get(Workflow, wf.id).published_version_id is None


def test_the_builder_page_offers_the_custom_values_in_the_merge_menu(app, account, users, client):
    from tests.api.test_authorization_matrix import session_client

    define(lambda role: ApiClient(app.test_client(), users[role]), ADDRESS)
    wf = make_workflow(account, sms_flow("Hi"), publish=False)
    page = session_client(app, users["manager"]).get(f"/workflows/{wf.id}/edit").get_data(as_text=True)
    assert "Custom value: office_address" in page and "custom_values.office_address" in page
