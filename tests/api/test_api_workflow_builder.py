"""The API the visual builder works with: form descriptors, stats, diff, restore, impact, duplicate, delete.

Every endpoint is checked for who may call it (roles, and another account's workflow is a 404).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, CustomValue, Enrollment, ExecutionLog, ManualAction, Note, Workflow, WorkflowVersion
from builder.schemas.forms import describe_schema, sample_config
from engine import registry
from engine.graph import TRIGGER_TYPES, Step
from jobqueue import enroll
from tests.factories import ApiClient, make_contact, run_jobs, run_scheduled_jobs

KINDS = {"text", "template", "integer", "boolean", "choice", "datetime", "time_zone", "time", "list", "object", "users",
         "condition_field", "step", "workflow", "workflows"}
EXIT_KINDS = {"next", "none", "goto", "branches", "named", "by_field"}

WAIT_THEN_NOTE = {
    "name": "Wait then note",
    "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
    "start": "tag",
    "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "nurture"}, "next": "pause"},
        "pause": {"type": "wait", "config": {"mode": "delay", "amount": 1, "unit": "days"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "Waited for {{ contact.first_name }}"}, "next": None},
    },
}


def manual_sms_graph(user_id: int) -> dict[str, Any]:
    return {
        "name": "Assign then text",
        "start": "s1",
        "steps": {
            "s1": {"type": "assign_user", "config": {"user_ids": [user_id]}, "next": "s2"},
            "s2": {"type": "manual_sms", "name": "Manual follow-up SMS",
                   "config": {"message": "Hi {{ contact.first_name }}"}, "next": None},
        },
    }


@pytest.fixture
def outsider(app, client) -> ApiClient:
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    return ApiClient(client, create_user("boss@other.test", "admin", "correct-horse", "Boss", other))


def create(api: ApiClient, graph: dict[str, Any]) -> dict[str, Any]:
    resp = api.post("/api/workflows", json=graph)
    assert resp.status_code == 201, resp.json
    return resp.json


def by_name(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in fields}


def enroll_live(wf_id: int, contact_ids: list[int], *, test: bool = False) -> None:
    wf = db.session.get(Workflow, wf_id)
    version = wf.latest_version() if test else wf.published_version
    enroll.create_request(wf, version, contact_ids, is_test=test)


# --- the action and trigger catalogue ----------------------------------------------

def walk(fields: list[dict[str, Any]]):
    for field in fields:
        yield field
        if "item" in field:
            yield from walk([field["item"]])
        yield from walk(field.get("fields", []))


def test_every_action_type_comes_with_its_form_and_exits(as_user):
    types = as_user("manager").get("/api/workflows/action-types").json
    assert {t["type"] for t in types} == {a.type for a in registry.all_actions()}
    for item in types:
        assert item["fields"] == describe_schema(registry.get(item["type"]).schema)
        assert item["exits"]["kind"] in EXIT_KINDS
        for case in [*item["exits"].get("cases", {}).values(), *([item["exits"]["default"]] if "default" in item[
                "exits"] else [])]:  # a by_field layout (Wait's exits follow its mode) holds plain layouts
            assert case["kind"] in EXIT_KINDS - {"by_field"}
        for field in walk(item["fields"]):
            assert field["kind"] in KINDS, (item["type"], field)
            assert {"name", "label", "required"} <= field.keys()


def _graph_for(action_type: str, config: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    step = {"type": action_type, "config": config, "next": "fin" if layout["kind"] == "next" else None}
    steps = {"s": step}
    if layout["kind"] in ("next", "goto"):  # the sample points there
        steps["fin"] = {"type": "end", "config": {}, "next": None}
    return {"name": f"Sample {action_type}", "start": "s", "steps": steps}


def test_a_config_built_from_the_descriptors_is_what_the_server_saves(as_user, users):
    """For every action type: defaults, plus a plain value for each field a save needs, saves unchanged."""
    api = as_user("admin")
    # Update Custom Value names one of the account's custom values: the sample key ("x") must be one.
    db.session.add(CustomValue(account_id=users["admin"].account_id, key="x", value=""))
    db.session.commit()
    for item in api.get("/api/workflows/action-types").json:
        config = sample_config(item["fields"], step_id="fin", user_id=users["agent"].id)
        graph = _graph_for(item["type"], copy.deepcopy(config), item["exits"])
        resp = api.post("/api/workflows", json=graph)
        assert resp.status_code == 201, (item["type"], config, resp.json)
        assert resp.json["graph"]["steps"]["s"]["config"] == config, item["type"]


def test_exit_layouts_agree_with_the_exits_the_engine_follows(users):
    for action in registry.all_actions():
        described = describe_schema(action.schema)
        config = action.schema().load(sample_config(described, step_id="fin", user_id=users["agent"].id))
        layout = action.exit_layout
        # A by_field layout (Wait's exits follow its mode): each case, with the config in that case.
        cases = [(layout, None)] if layout["kind"] != "by_field" else [
            *((case, value) for value, case in layout["cases"].items()),
            (layout["default"], config.get(layout["field"]))]
        step_paths: set[str] = set()
        for case, value in cases:
            cased = config if value is None else {**config, layout["field"]: value}
            paths = _paths_of(action, cased)
            # The "On failure" exit of a step that reaches outside comes last (a jump, like Go To's).
            failure = [f"config.{layout['failure']}"] if layout.get("failure") else []
            assert paths == _expected_exits(case, cased) + failure, (action.type, value)
            step_paths.update(paths)
        # Exits kept in config are "step" fields: the canvas draws them, never shows them as inputs.
        step_fields = {f["name"] for f in walk(described) if f["kind"] == "step"}
        assert step_fields == {p.rsplit(".", 1)[-1] for p in step_paths if p != "next"}, action.type


def _paths_of(action, config: dict[str, Any]) -> list[str]:
    return [path for path, _ in action.exit_fields(Step.from_dict("s", {"type": action.type, "config": config}))]


def _expected_exits(layout: dict[str, Any], config: dict[str, Any]) -> list[str]:
    if layout["kind"] == "next":
        return ["next"]
    if layout["kind"] == "none":
        return []
    if layout["kind"] == "goto":
        return [f"config.{layout['field']}"]
    if layout["kind"] == "branches":
        expected = [f"config.{layout['list']}.{i}.{layout['target']}" for i in range(len(config[layout["list"]]))]
        if layout.get("else"):  # Split has none
            expected.append(f"config.{layout['else']}")
        return expected
    return [f"config.{e['field']}" for e in layout["exits"]]


def test_descriptors_carry_what_the_schemas_check(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    assign = by_name(types["assign_user"]["fields"])
    user_ids = {k: v for k, v in assign["user_ids"].items() if k != "item"}
    assert user_ids == {"name": "user_ids", "kind": "users", "label": "Users", "required": True, "min": 1, "max": 100,
                        "help": "Several users share contacts round-robin."}
    assert assign["user_ids"]["item"]["kind"] == "integer"
    assert assign["split"]["kind"] == "choice" and assign["split"]["default"] == "equal"
    assert [c["value"] for c in assign["split"]["choices"]] == ["equal", "weighted"]
    assert assign["weights"]["required_if"] == {"field": "split", "value": "weighted"}
    assert assign["weights"]["item"] == {"name": "item", "kind": "integer", "label": "Item", "required": False,
                                         "min": 1, "max": 1000}
    sms = by_name(types["send_sms"]["fields"])["message"]
    assert (sms["kind"], sms["required"], sms["min"], sms["max"]) == ("template", True, 1, 1600)
    manual = by_name(types["manual_sms"]["fields"])
    assert manual["message"]["required"] is False and manual["message"]["default"] == ""
    assert manual["continue_without_waiting"] == {**manual["continue_without_waiting"], "kind": "boolean",
                                                  "default": False}
    wait = by_name(types["wait"]["fields"])
    assert wait["until"]["kind"] == "datetime" and wait["amount"]["min"] == 1 and wait["amount"]["max"] == 100_000
    branches = by_name(types["if_else"]["fields"])["branches"]
    branch = by_name(branches["item"]["fields"])
    condition = by_name(branch["conditions"]["item"]["fields"])
    assert condition["field"]["kind"] == "condition_field" and branch["next"]["kind"] == "step"
    assert {"value": "is_not_empty", "label": "is not empty"} in condition["op"]["choices"]
    assert by_name(types["goto"]["fields"])["target"]["kind"] == "step"
    assert types["if_else"]["exits"] == {"kind": "branches", "list": "branches", "target": "next", "label": "name",
                                         "else": "else_next", "else_label": "Else"}
    assert types["end"]["exits"] == {"kind": "none"} and types["add_tag"]["exits"] == {"kind": "next"}


def test_trigger_types_and_their_forms(as_user):
    api = as_user("admin")
    triggers = {t["type"]: t for t in api.get("/api/workflows/trigger-types").json}
    assert {t: triggers[t]["label"] for t in triggers} == TRIGGER_TYPES
    assert triggers["manual"]["fields"] == []
    assert by_name(triggers["contact_tag_added"]["fields"])["tag"] == {
        "name": "tag", "kind": "text", "label": "Tag", "required": True, "min": 1, "max": 100}
    field_map = by_name(triggers["inbound_webhook"]["fields"])["field_map"]
    assert field_map["kind"] == "object" and field_map["fields"] == [] and field_map["default"] == {}
    assert field_map["values"]["kind"] == "text"
    for kind, item in triggers.items():  # every trigger saves with a config built from its form
        graph = {"name": kind, "trigger": {"type": kind, "config": sample_config(item["fields"])},
                 "start": None, "steps": {}}
        assert api.post("/api/workflows", json=graph).status_code == 201, kind


def test_the_catalogue_needs_a_login(client):
    assert client.get("/api/workflows/action-types").status_code == 401
    assert client.get("/api/workflows/trigger-types").status_code == 401


# --- the list --------------------------------------------------------------------------

def test_list_rows_have_status_counts_and_who_edited_last(app, as_user, users, account):
    admin, manager = as_user("admin"), as_user("manager")
    wf = create(admin, WAIT_THEN_NOTE)
    admin.post(f"/api/workflows/{wf['id']}/publish", json={})
    manager.put(f"/api/workflows/{wf['id']}", json={**WAIT_THEN_NOTE, "name": "Wait, then note"})
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(3)]
    enroll_live(wf["id"], [c.id for c in contacts])
    enroll_live(wf["id"], [contacts[0].id], test=True)  # test runs are not counted
    run_jobs(app)
    [row] = as_user("agent").get("/api/workflows").json
    assert row["status"] == "published" and row["published_version"] == 1 and row["version"] == 2
    assert row["has_unpublished_changes"] is True
    assert row["counts"] == {"active": 3, "waiting": 3, "completed": 0, "failed": 0}
    assert row["updated_by"] == {"id": users["manager"].id, "name": "Manager"}
    assert row["trigger"] == {"type": "contact_tag_added", "config": {"tag": "new-lead"}}
    assert "graph" not in row


# --- stats ------------------------------------------------------------------------------

def test_stats_count_waiting_and_passed_per_step(app, as_user, account):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contacts = [make_contact(account, first_name=f"C{i}") for i in range(3)]
    enroll_live(wf["id"], [c.id for c in contacts])
    enroll_live(wf["id"], [contacts[0].id], test=True)
    run_jobs(app)
    stats = api.get(f"/api/workflows/{wf['id']}/stats").json
    assert stats == {"workflow_id": wf["id"], "steps": {
        "tag": {"waiting": 0, "passed": 3}, "pause": {"waiting": 3, "passed": 0}, "note": {"waiting": 0, "passed": 0}}}
    test_stats = api.get(f"/api/workflows/{wf['id']}/stats?test=true").json["steps"]
    assert test_stats["tag"] == {"waiting": 0, "passed": 1} and test_stats["pause"] == {"waiting": 1, "passed": 0}

    run_scheduled_jobs(app)  # the day has passed
    run_jobs(app)
    stats = api.get(f"/api/workflows/{wf['id']}/stats").json["steps"]
    assert stats == {"tag": {"waiting": 0, "passed": 3}, "pause": {"waiting": 0, "passed": 3},
                     "note": {"waiting": 0, "passed": 3}}


def test_a_run_that_fails_at_a_step_did_not_pass_it(app, as_user, account):
    api = as_user("manager")
    wf = create(api, {"name": "Parked", "start": "call",
                      "steps": {"call": {"type": "manual_call", "config": {}, "next": None}}})
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contact = make_contact(account)
    enroll_live(wf["id"], [contact.id])
    run_jobs(app)
    assert api.get(f"/api/workflows/{wf['id']}/stats").json["steps"]["call"] == {"waiting": 1, "passed": 0}
    db.session.execute(ExecutionLog.__table__.update().values(outcome="failed"))
    db.session.execute(Enrollment.__table__.update().values(status="failed"))
    db.session.commit()
    assert api.get(f"/api/workflows/{wf['id']}/stats").json["steps"]["call"] == {"waiting": 0, "passed": 0}


# --- versions, restore, diff ------------------------------------------------------------

def test_versions_say_who_saved_them_and_which_is_live(as_user, users):
    admin, manager = as_user("admin"), as_user("manager")
    wf = create(admin, WAIT_THEN_NOTE)
    admin.post(f"/api/workflows/{wf['id']}/publish", json={})
    manager.put(f"/api/workflows/{wf['id']}", json=WAIT_THEN_NOTE)
    versions = as_user("agent").get(f"/api/workflows/{wf['id']}/versions").json
    assert [(v["number"], v["is_published"], v["created_by"]["name"]) for v in versions] == [
        (2, False, "Manager"), (1, True, "Admin")]


def test_restore_saves_an_old_graph_as_a_new_draft(as_user):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    second = api.put(f"/api/workflows/{wf['id']}", json={
        **WAIT_THEN_NOTE, "name": "Second", "start": "pause",
        "steps": {k: v for k, v in WAIT_THEN_NOTE["steps"].items() if k != "tag"}})
    assert second.status_code == 200
    resp = api.post(f"/api/workflows/{wf['id']}/versions/1/restore")
    assert resp.status_code == 200
    assert resp.json["version"] == 3 and resp.json["name"] == "Wait then note"
    v1 = api.get(f"/api/workflows/{wf['id']}?version=1").json["graph"]
    assert resp.json["graph"] == v1
    assert api.post(f"/api/workflows/{wf['id']}/versions/9/restore").status_code == 404


def test_restore_checks_the_old_graph_again(as_user, users):
    api = as_user("admin")
    wf = create(api, manual_sms_graph(users["agent"].id))
    elsewhere = Account(name="Elsewhere")  # the assigned user has moved to another account since
    db.session.add(elsewhere)
    db.session.flush()
    users["agent"].account_id = elsewhere.id
    db.session.commit()
    resp = api.post(f"/api/workflows/{wf['id']}/versions/1/restore")
    assert resp.status_code == 422
    assert list(resp.json["error"]["fields"]) == ["steps.s1.config.user_ids"]


def test_diff_lists_changes_in_sentences_and_by_field(as_user, users):
    api = as_user("manager")
    v1 = manual_sms_graph(users["agent"].id)
    wf = create(api, v1)
    v2 = copy.deepcopy(v1)
    v2["name"] = "Assign, text, tag"
    v2["trigger"] = {"type": "contact_tag_added", "config": {"tag": "new-lead"}}
    v2["settings"] = {"allow_reentry": True}
    v2["steps"]["s2"]["config"]["message"] = "Hello {{ contact.first_name }}!"
    v2["steps"]["s2"]["next"] = "s3"
    v2["steps"]["s3"] = {"type": "add_tag", "config": {"tag": "texted"}, "next": None}
    api.put(f"/api/workflows/{wf['id']}", json=v2)
    v3 = copy.deepcopy(v2)
    del v3["steps"]["s1"]
    v3["start"] = "s2"
    api.put(f"/api/workflows/{wf['id']}", json=v3)

    diff = api.get(f"/api/workflows/{wf['id']}/diff?from=1&to=2").json
    assert (diff["from"], diff["to"]) == (1, 2)
    assert [(c["kind"], c["step_id"], c["summary"]) for c in diff["changes"]] == [
        ("changed", None, "Renamed from “Assign then text” to “Assign, text, tag”"),
        ("changed", None, "Trigger changed from “Added manually or in bulk (Add to Automation)” to "
                          "“Contact tag added”"),
        ("changed", None, "Setting “allow reentry” turned on"),
        ("changed", "s2", "Step s2 (Manual follow-up SMS): message changed from “Hi {{ contact.first_name }}” to "
                          "“Hello {{ contact.first_name }}!”; next step now Step s3 (Add Contact Tag)"),
        ("added", "s3", "Step s3 (Add Contact Tag) added"),
    ]
    message = diff["changes"][3]["details"]
    assert {"path": "config.message", "before": "Hi {{ contact.first_name }}",
            "after": "Hello {{ contact.first_name }}!"} in message
    assert {"path": "next", "before": None, "after": "s3"} in message

    latest = api.get(f"/api/workflows/{wf['id']}/diff").json  # default: the latest against the one before
    assert (latest["from"], latest["to"]) == (2, 3)
    assert [(c["kind"], c["step_id"], c["summary"]) for c in latest["changes"]] == [
        ("changed", None, "Now starts at Step s2 (Manual follow-up SMS)"),
        ("removed", "s1", "Step s1 (Assign To User) removed"),
    ]
    assert api.get(f"/api/workflows/{wf['id']}/diff?from=1&to=1").json["changes"] == []
    assert api.get(f"/api/workflows/{wf['id']}/diff?from=1&to=7").status_code == 404


def test_diff_of_the_first_version_has_nothing_to_compare(as_user):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    assert api.get(f"/api/workflows/{wf['id']}/diff").status_code == 404


# --- impact -------------------------------------------------------------------------------

def test_impact_names_removed_steps_where_contacts_wait(app, as_user, account):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    path = f"/api/workflows/{wf['id']}/impact"
    draft = {**WAIT_THEN_NOTE, "steps": {"tag": {**WAIT_THEN_NOTE["steps"]["tag"], "next": None}}}
    assert api.post(path, json=draft).json == {"removed": []}  # nothing published yet
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    enroll_live(wf["id"], [make_contact(account).id, make_contact(account).id])
    run_jobs(app)
    assert api.post(path, json=draft).json == {"removed": [{"step_id": "pause", "name": "Wait", "waiting": 2}]}
    assert api.post(path, json=WAIT_THEN_NOTE).json == {"removed": []}
    # A graph still being edited need not be valid; it needs its steps.
    assert api.post(path, json={"steps": {"pause": {}}}).json == {"removed": []}
    resp = api.post(path, json={"name": "no steps"})
    assert resp.status_code == 422 and resp.json["error"]["fields"] == {"steps": ["Must be an object."]}


# --- duplicate ---------------------------------------------------------------------------------

def test_duplicate_makes_a_draft_copy(as_user):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    resp = api.post(f"/api/workflows/{wf['id']}/duplicate")
    assert resp.status_code == 201
    copy_ = resp.json
    assert copy_["id"] != wf["id"] and copy_["name"] == "Wait then note (copy)"
    assert copy_["status"] == "draft" and copy_["version"] == 1
    assert copy_["graph"] == {**wf["graph"], "name": "Wait then note (copy)"}


def test_duplicating_a_long_name_keeps_it_within_the_limit(as_user):
    api = as_user("admin")
    wf = create(api, {"name": "x" * 200, "start": None, "steps": {}})
    name = api.post(f"/api/workflows/{wf['id']}/duplicate").json["name"]
    assert len(name) == 200 and name.endswith(" (copy)")


# --- delete --------------------------------------------------------------------------------------

def test_deleting_a_workflow_nobody_is_in(app, as_user, account):
    api = as_user("admin")
    wf = create(api, WAIT_THEN_NOTE)
    contact = make_contact(account)
    enroll_live(wf["id"], [contact.id], test=True)  # test runs do not hold a delete up
    run_jobs(app)
    assert api.delete(f"/api/workflows/{wf['id']}").status_code == 204
    assert api.get(f"/api/workflows/{wf['id']}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(WorkflowVersion)) == 0
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_deleting_with_contacts_in_it_asks_what_to_do(app, as_user, account):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    enroll_live(wf["id"], [make_contact(account).id, make_contact(account).id])
    run_jobs(app)
    resp = api.delete(f"/api/workflows/{wf['id']}")
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "conflict" and resp.json["error"]["active"] == 2
    assert "2 contacts are still in this workflow" in resp.json["error"]["message"]
    assert api.delete(f"/api/workflows/{wf['id']}?active=later").status_code == 422
    assert api.get(f"/api/workflows/{wf['id']}").status_code == 200


def test_cancel_ends_the_runs_and_deletes_their_queued_actions(app, as_user, users, account):
    api = as_user("admin")
    wf = create(api, {**manual_sms_graph(users["agent"].id),
                      "steps": {**manual_sms_graph(users["agent"].id)["steps"],
                                "s1": {"type": "add_note", "config": {"body": "hi"}, "next": "s2"}}})
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    enroll_live(wf["id"], [contact.id])
    run_jobs(app)
    action_id = db.session.scalar(select(ManualAction.id))
    assert api.delete(f"/api/workflows/{wf['id']}?active=cancel").status_code == 204
    assert db.session.get(Workflow, wf["id"]) is None
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    action = db.session.get(ManualAction, action_id)
    assert action.status == "deleted" and action.workflow_id is None
    note = db.session.scalar(select(Note))  # the contact keeps what the run wrote
    assert note.body == "hi" and note.workflow_id is None
    assert as_user("agent").get("/api/manual-actions").json["total"] == 0


def test_finish_hides_the_workflow_until_its_last_run_ends(app, as_user, account):
    api = as_user("manager")
    wf = create(api, WAIT_THEN_NOTE)
    api.post(f"/api/workflows/{wf['id']}/publish", json={})
    contacts = [make_contact(account).id, make_contact(account).id]
    enroll_live(wf["id"], contacts)
    run_jobs(app)
    resp = api.delete(f"/api/workflows/{wf['id']}?active=finish")
    assert resp.status_code == 202 and resp.json == {"id": wf["id"], "status": "finishing", "active": 2}
    assert api.get("/api/workflows").json == []
    for path in ("", "/stats", "/versions"):
        assert api.get(f"/api/workflows/{wf['id']}{path}").status_code == 404
    enrolling = api.post(f"/api/workflows/{wf['id']}/enroll", json={"contact_ids": contacts, "test": True})
    assert enrolling.status_code == 404

    run_scheduled_jobs(app)  # the waits end; the runs go on to the note and finish
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Note)) == 2
    assert db.session.get(Workflow, wf["id"]) is None


def test_nobody_else_deletes_or_copies(as_user, outsider):
    wf = create(as_user("admin"), WAIT_THEN_NOTE)
    agent = as_user("agent")
    assert agent.delete(f"/api/workflows/{wf['id']}").status_code == 403
    assert agent.post(f"/api/workflows/{wf['id']}/duplicate").status_code == 403
    assert outsider.delete(f"/api/workflows/{wf['id']}").status_code == 404
    assert outsider.post(f"/api/workflows/{wf['id']}/duplicate").status_code == 404
    assert as_user("manager").get(f"/api/workflows/{wf['id']}").status_code == 200


# --- who may call what ----------------------------------------------------------------------------

READS = ["", "/versions", "/diff?from=1&to=2"]
EDITOR_READS = ["/stats", "/executions"]
WRITES = [("post", "/versions/1/restore", None), ("post", "/impact", WAIT_THEN_NOTE), ("post", "/duplicate", None),
          ("put", "", WAIT_THEN_NOTE), ("post", "/publish", {}), ("delete", "", None)]


def test_roles_and_accounts_on_every_workflow_endpoint(as_user, outsider):
    admin = as_user("admin")
    wf = create(admin, WAIT_THEN_NOTE)
    admin.put(f"/api/workflows/{wf['id']}", json=WAIT_THEN_NOTE)
    base = f"/api/workflows/{wf['id']}"
    agent = as_user("agent")
    for path in READS:
        assert agent.get(base + path).status_code == 200, path
        assert outsider.get(base + path).status_code == 404, path
    for path in EDITOR_READS:
        assert agent.get(base + path).status_code == 403, path
        assert outsider.get(base + path).status_code == 404, path
        assert as_user("manager").get(base + path).status_code == 200, path
    for method, path, body in WRITES:
        kwargs = {"json": body} if body is not None else {}
        assert getattr(agent, method)(base + path, **kwargs).status_code == 403, (method, path)
        assert getattr(outsider, method)(base + path, **kwargs).status_code == 404, (method, path)
    assert admin.get("/api/workflows/99999999999").status_code == 404


# --- the diff's sentences, without the API ----------------------------------------------------------

def test_diff_sentences_for_replaced_steps_trigger_settings_and_branches():
    from builder.domain.workflow_diff import diff_graphs

    branch = {"name": "VIP", "match": "all", "next": None,
              "conditions": [{"field": "contact.tags", "op": "has_tag", "value": "vip"}]}
    before = {"name": "A", "trigger": {"type": "contact_tag_added", "config": {"tag": "new"}}, "start": "s1",
              "settings": {"allow_reentry": False},
              "steps": {"s1": {"type": "add_tag", "name": "", "config": {"tag": "x"}, "next": "s2"},
                        "s2": {"type": "if_else", "name": "", "config": {"branches": [branch, branch],
                                                                         "else_next": None}, "next": None}}}
    after = copy.deepcopy(before)
    after["trigger"]["config"]["tag"] = "lead"
    after["steps"]["s1"] = {"type": "remove_tag", "name": "", "config": {"tag": "x"}, "next": "s2"}
    after["steps"]["s2"]["config"]["branches"] = [branch]
    changes = diff_graphs(before, after)
    assert [c["summary"] for c in changes] == [
        "Trigger (“Contact tag added”): tag changed from “new” to “lead”",
        "Step s1 (Remove Contact Tag): replaced Add Contact Tag",
        "Step s2 (If / Else): branches changed",
    ]
    assert changes[2]["details"] == [{"path": "config.branches.1", "before": branch, "after": None}]
    assert diff_graphs(before, copy.deepcopy(before)) == []


def test_diff_sentences_name_users_list_items_and_switches():
    from builder.domain.workflow_diff import diff_graphs

    before = {"name": "A", "start": "s1", "steps": {
        "s1": {"type": "assign_user", "name": "", "config": {"user_ids": [1, 2], "only_unassigned": False},
               "next": "s2"},
        "s2": {"type": "send_sms", "name": "Welcome", "config": {"message": "Hi " + "x" * 80}, "next": None}}}
    after = copy.deepcopy(before)
    after["steps"]["s1"]["config"]["user_ids"] = [2, 3]
    after["steps"]["s1"]["config"]["only_unassigned"] = True
    after["steps"]["s2"]["config"]["message"] = "Hello " + "y" * 80
    after["steps"]["s2"]["next"] = "s1"
    summaries = [c["summary"] for c in diff_graphs(before, after, {1: "Alex", 2: "Sam", 3: "Kim"})]
    assert summaries == [
        "Step s1 (Assign To User): Kim added, Alex removed; only unassigned turned on",
        "Step s2 (Welcome): message changed; next step now Step s1 (Assign To User)",  # too long to quote
    ]
    # Without names (a user since deleted), the id still says who.
    assert diff_graphs(before, after)[0]["summary"].startswith("Step s1 (Assign To User): user 3 added, user 1 removed")
