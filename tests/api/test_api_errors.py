"""Every API error is JSON {"error": {"code", "message", "fields"?}}, and no input makes a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from builder.extensions import db
from builder.models import ManualAction
from jobqueue import enroll
from tests.factories import make_contact, make_workflow, run_jobs


def assert_error(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.get_data(as_text=True)
    assert res.is_json, res.get_data(as_text=True)
    error = res.json["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/nothing-here"),
    ("post", "/api/contacts/1/nothing"),
    ("get", "/api/contacts/not-a-number"),
    ("get", "/api/contacts/12345"),
    ("post", "/api/manual-actions/12345/complete"),
])
def test_unknown_routes_and_ids_are_json_404(as_user, method, path):
    assert_error(getattr(as_user("admin"), method)(path, json={}), 404, "not_found")


def test_wrong_method_is_json_405(as_user):
    assert_error(as_user("admin").put("/api/contacts", json={}), 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/contacts", "/api/manual-actions/1/complete"])
def test_malformed_json_is_json_400(as_user, path):
    res = as_user("admin").post(path, data='{"first_name": ', content_type="application/json")
    assert_error(res, 400, "bad_request")


@pytest.mark.parametrize("body", [[], "a string", 42, None, True])
def test_a_body_that_is_not_an_object_is_json_422(as_user, body):
    res = as_user("admin").post("/api/contacts", data=json.dumps(body), content_type="application/json")
    assert_error(res, 422, "validation_error")


def test_validation_errors_name_their_fields(as_user):
    error = assert_error(as_user("admin").post("/api/contacts", json={"phone": "nope", "email": "x"}),
                         422, "validation_error")
    assert set(error["fields"]) == {"phone", "email"}
    assert all(isinstance(m, list) and m for m in error["fields"].values())


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
@pytest.mark.parametrize("path", ["/api/contacts", "/api/manual-actions", "/api/dashboard/manual-actions"])
def test_missing_or_bad_token_is_json_401(client, account, path, headers):
    assert_error(client.get(path, headers=headers), 401, "unauthorized")


def test_inactive_users_token_is_401(as_user, users):
    agent = as_user("agent")
    users["agent"].active = False
    db.session.commit()
    assert_error(agent.get("/api/contacts"), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/contacts"),
    ("delete", "/api/contacts/1"),
    ("get", "/api/users"),
])
def test_wrong_role_is_json_403(as_user, account, method, path):
    make_contact(account)
    assert_error(getattr(as_user("agent"), method)(path, json={"first_name": "A"}), 403, "forbidden")


# --- no input makes a 500 ------------------------------------------------

SPECIAL = st.sampled_from([
    "", " ", "\x00", "\ud800", "null", "+12025550123", "(415) 555-1000", "+1 555 555 5555", "America/New_York",
    "Not/AZone", "a@b.co", "2030-01-01T00:00:00", "2030-01-01T00:00:00+05:00", "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:00:00-05:00", "answered", "x" * 2000,
])
SCALARS = st.none() | st.booleans() | st.integers() | st.integers(min_value=2**31, max_value=2**70) | st.floats() \
    | st.text(max_size=20) | SPECIAL


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | SPECIAL, children, max_size=4)


JSON_VALUES = st.recursive(SCALARS, containers, max_leaves=12)

# Valid-looking values per field, so that requests also get past validation and reach the database.
PLAUSIBLE = {
    "first_name": st.text(max_size=100), "last_name": st.text(max_size=100), "notes": st.text(max_size=200),
    "email": st.emails(),
    "phone": st.sampled_from(["+12025550123", "(415) 555-1000", "202.555.0123", "+44 20 7946 0958", ""]),
    "timezone": st.sampled_from(["UTC", "Europe/London", "America/New_York", "Etc/GMT+5"]),
    "tags": st.lists(st.text(min_size=1, max_size=20), max_size=5),
    "custom_fields": st.dictionaries(st.text(min_size=1, max_size=10), SCALARS, max_size=4),
    "assigned_user_id": st.integers(min_value=1, max_value=6) | st.none(),
    "dnd_sms": st.booleans(), "dnd_call": st.booleans(), "is_test": st.booleans(),
    "message": st.text(min_size=1, max_size=1700),
    "send_at": st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    "outcome": st.sampled_from(["answered", "busy", "left_voicemail", "call_back_later"]),
}
CONTACT_FIELDS = [
    "first_name", "last_name", "email", "phone", "timezone", "tags", "custom_fields", "assigned_user_id",
    "dnd_sms", "dnd_call", "is_test",
]
TARGET_FIELDS = {
    "create": CONTACT_FIELDS, "patch": CONTACT_FIELDS,
    "complete_sms": ["message", "send_at"], "complete_call": ["outcome", "notes"],
}


def bodies(names: list[str]) -> st.SearchStrategy:
    """The target's fields with plausible values, or with any JSON; any field; or any JSON at all."""
    def objects(fields: list[str], values) -> st.SearchStrategy:
        return st.fixed_dictionaries({}, optional={name: values(name) for name in fields})

    return st.one_of(
        objects(names, lambda name: PLAUSIBLE[name]),
        objects(names, lambda name: PLAUSIBLE[name] | JSON_VALUES),
        objects(list(PLAUSIBLE), lambda name: PLAUSIBLE[name] | JSON_VALUES),
        JSON_VALUES,
    )


GRAPH = {
    "name": "Fuzz",
    "start": "s1",
    "steps": {
        "s1": {"type": "manual_sms", "config": {"message": "Hi"}, "next": "s2"},
        "s2": {"type": "manual_call", "config": {}, "next": None},
    },
}


@pytest.fixture
def targets(app, account, users) -> dict[str, str]:
    """A contact with a parked SMS action and a queued call action, for the fuzzed requests to aim at."""
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    wf = make_workflow(account, {**GRAPH, "steps": {**GRAPH["steps"], "s1": {
        **GRAPH["steps"]["s1"], "config": {"message": "Hi", "continue_without_waiting": True}}}})
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    sms, call = (db.session.scalar(select(ManualAction).where(ManualAction.type == kind)) for kind in ("sms", "call"))
    return {
        "create": "/api/contacts",
        "patch": f"/api/contacts/{contact.id}",
        "complete_sms": f"/api/manual-actions/{sms.id}/complete",
        "complete_call": f"/api/manual-actions/{call.id}/complete",
    }


@pytest.mark.parametrize("role", ["admin", "agent"])
@pytest.mark.parametrize("target", ["create", "patch", "complete_sms", "complete_call"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_json_never_causes_a_500(as_user, targets, role, target, data):
    body = data.draw(bodies(TARGET_FIELDS[target]), label="body")
    client = as_user(role)
    method = client.patch if target == "patch" else client.post
    res = method(targets[target], json=body)
    event(f"status {res.status_code}")  # --hypothesis-show-statistics shows how often each path was hit
    assert res.status_code < 500, (body, res.get_data(as_text=True))
    if res.status_code >= 400:
        assert res.is_json and set(res.json["error"]) >= {"code", "message"}
