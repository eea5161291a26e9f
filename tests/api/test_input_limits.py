"""Bad input gets a clear 4xx, never a 500 and never a partial save: body size (chunked bodies
included), JSON nesting, numbers past what an id can be, and the inbound webhook's contact fields."""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from builder.extensions import db
from builder.http.auth import require_role
from builder.http.input_limits import MAX_JSON_DEPTH
from builder.models import Contact
from builder.web.workflow_hooks import MAX_BODY, hook_secret
from tests.factories import make_contact, make_workflow

HUGE = 2**64  # past what SQLite can bind at all
WEBHOOK = {
    "name": "Hook", "start": "s1",
    "trigger": {"type": "inbound_webhook", "config": {"field_map": {
        "mail": "email", "phone": "phone", "first": "first_name", "tz": "timezone", "plan": "custom.plan"}}},
    "steps": {"s1": {"type": "add_tag", "config": {"tag": "hooked"}, "next": None}},
}
GRAPH = {"name": "Plain", "start": "s1", "steps": {"s1": {"type": "add_tag", "config": {"tag": "x"}, "next": None}}}


def contacts() -> int:
    db.session.rollback()  # see what other connections committed
    count = db.session.scalar(select(func.count()).select_from(Contact))
    db.session.rollback()  # and hold no lock while a server thread writes (SQLite)
    return count


def hook_path(workflow_id: int) -> str:
    return f"/hooks/workflows/{workflow_id}/{hook_secret(workflow_id)}"


def assert_error(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.get_data(as_text=True)
    assert res.is_json, res.get_data(as_text=True)
    assert res.json["error"]["code"] == code
    return res.json["error"]


# --- body size: the hook's 64 KB and the app's MAX_CONTENT_LENGTH, chunked bodies included ------

def chunked(client, path: str, body: bytes, **kwargs):
    """POST `body` as a chunked request: no Content-Length, the server says the stream ends by itself."""
    return client.post(path, input_stream=io.BytesIO(body), content_type="application/json",
                       environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
                       **kwargs)


def padded(size: int, **fields) -> bytes:
    return json.dumps({**fields, "pad": "x" * size}).encode()


def test_a_chunked_10_mb_body_to_the_hook_is_refused_and_saves_nothing(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    res = chunked(client, hook_path(workflow.id), padded(10 * 1024 * 1024, mail="big@example.com"))
    assert_error(res, 413, "too_large")
    assert contacts() == 0


def test_the_hook_caps_the_bytes_it_reads_below_the_app_limit(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    assert app.config["MAX_CONTENT_LENGTH"] > 2 * MAX_BODY
    res = chunked(client, hook_path(workflow.id), padded(MAX_BODY, mail="big@example.com"))
    assert_error(res, 413, "too_large")
    assert contacts() == 0
    ok = chunked(client, hook_path(workflow.id), padded(MAX_BODY - 100, mail="fits@example.com"))
    assert ok.status_code == 202, ok.get_data(as_text=True)
    assert contacts() == 1


def test_the_app_refuses_chunked_bodies_past_max_content_length(app, account, as_user):
    admin = as_user("admin")
    res = chunked(admin.client, "/api/contacts", padded(2 * 1024 * 1024, first_name="Big"), headers=admin.headers)
    assert_error(res, 413, "too_large")
    assert contacts() == 0


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app behind a real HTTP server (werkzeug's, which reads chunked bodies)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def post_chunked(host: str, path: str, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(host, timeout=30)
    pieces = (body[i:i + 8192] for i in range(0, len(body), 8192))  # an iterable: sent chunked
    conn.request("POST", path, body=pieces, headers={"Content-Type": "application/json"}, encode_chunked=True)
    res = conn.getresponse()
    payload = json.loads(res.read())
    conn.close()
    return res.status, payload


def test_chunked_bodies_over_http(app, account, server):
    path = hook_path(make_workflow(account, WEBHOOK).id)
    db.session.rollback()  # the server's thread writes: hold no SQLite lock here
    status, payload = post_chunked(server, path, padded(MAX_BODY + 1000, mail="a@example.com"))
    assert (status, payload["error"]["code"]) == (413, "too_large")
    assert contacts() == 0
    status, payload = post_chunked(server, path, json.dumps({"mail": "b@example.com"}).encode())
    assert status == 202, payload
    assert contacts() == 1


# --- JSON nesting --------------------------------------------------------------------------------

def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


DEEP = nested(5000)


@pytest.mark.parametrize(("method", "path", "role"), [
    ("post", "/api/auth/token", None),
    ("post", "/api/contacts", "admin"),
    ("patch", "/api/contacts/{contact}", "admin"),
    ("post", "/api/workflows", "admin"),
    ("post", "/api/manual-actions/start", "agent"),
    ("post", "{hook}", None),
])
@pytest.mark.parametrize("depth", [5000, 900, MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_a_clear_400(app, account, client, as_user, method, path, role, depth):
    contact = make_contact(account)
    workflow = make_workflow(account, WEBHOOK)
    url = path.format(contact=contact.id, hook=hook_path(workflow.id))
    sender = as_user(role) if role else client
    res = getattr(sender, method)(url, data=nested(depth), content_type="application/json")
    error = assert_error(res, 400, "bad_request")
    assert error["message"].startswith("The JSON body is nested too deeply")
    assert contacts() == 1


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/contacts", lambda deep: {"first_name": "Ada", "custom_fields": {"x": deep}}),
    ("post", "/api/contacts", lambda deep: deep),
    ("patch", "/api/contacts/{contact}", lambda deep: {"tags": [deep]}),
    ("post", "/api/workflows", lambda deep: {**GRAPH, "settings": deep}),
    ("post", "/api/workflows", lambda deep: {**GRAPH, "steps": {"s1": {**GRAPH["steps"]["s1"], "config": deep}}}),
    ("post", "/api/manual-actions/start", lambda deep: {"exclude_ids": [deep]}),
    ("post", "/api/auth/token", lambda deep: {"email": deep, "password": "x"}),
])
def test_the_deepest_accepted_nesting_is_validated_without_a_500(app, account, as_user, method, path, body):
    contact = make_contact(account)
    levels = next(d for d in range(MAX_JSON_DEPTH, 0, -1) if depth(body(json.loads(nested(d)))) <= MAX_JSON_DEPTH)
    deep = json.loads(nested(levels))
    assert depth(body(deep)) == MAX_JSON_DEPTH
    res = getattr(as_user("admin"), method)(path.format(contact=contact.id), json=body(deep))
    assert_error(res, 422, "validation_error")
    assert contacts() == 1


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def test_brackets_inside_strings_do_not_count_as_nesting(app, account, as_user):
    note = "[{" * 400 + '\\"' + "}]" * 10
    res = as_user("admin").post("/api/contacts", data='{"first_name": "Ada", "custom_fields": {"note": "'
                                + note + '"}}', content_type="application/json")
    assert res.status_code == 201, res.get_data(as_text=True)


# --- numbers past what an id can be --------------------------------------------------------------

@pytest.fixture
def workflow(account, users):
    return make_workflow(account, GRAPH, user=users["admin"])


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("get", "/api/workflows/{wf}/executions?after_id={huge}", None, 422),
    ("get", "/api/workflows/{wf}/executions?contact_id={huge}", None, 422),
    ("get", "/api/workflows/{wf}/executions?enrollment_id={huge}", None, 422),
    ("get", "/api/workflows/{wf}?version={huge}", None, 422),
    ("get", "/api/workflows/{wf}/enroll/{huge}", None, 404),
    ("post", "/api/workflows/{wf}/versions/{huge}/restore", None, 404),
    ("post", "/api/workflows/{wf}/publish", {"version": HUGE}, 422),
    ("get", "/api/workflows/{wf}/diff?from={huge}&to=1", None, 422),
    ("get", "/api/workflows/{wf}/diff?to={huge}", None, 422),
    ("get", "/api/workflows/{huge}", None, 404),
    ("get", "/api/contacts/{huge}", None, 404),
    ("get", "/api/manual-actions/{huge}", None, 404),
    ("get", "/api/contacts/{huge}/messages", None, 404),
    ("post", "/api/workflows/{wf}/enroll", {"contact_ids": [HUGE]}, 422),
    ("post", "/api/workflows", {**GRAPH, "steps": {"s1": {"type": "assign_user", "config": {"user_ids": [HUGE]},
                                                          "next": None}}}, 422),
    ("get", "/api/manual-actions?contact_id={huge}", None, 422),
    ("get", "/api/reports/calls?workflow_id={huge}", None, 422),
])
def test_huge_numbers_are_404_or_422(as_user, workflow, method, path, body, status):
    url = path.format(wf=workflow.id, huge=HUGE)
    res = getattr(as_user("admin"), method)(url, **({"json": body} if body is not None else {}))
    assert_error(res, status, "not_found" if status == 404 else "validation_error")


def login(client, email: str) -> None:
    assert client.post("/login", data={"email": email, "password": "correct-horse"}).status_code == 302


def test_huge_ids_in_page_urls_are_404(client, users, workflow):
    login(client, users["admin"].email)
    assert client.get(f"/workflows/{workflow.id}/edit").status_code == 200
    assert client.get(f"/workflows/{HUGE}/edit").status_code == 404
    assert client.get(f"/workflows/{2**31}/edit").status_code == 404


# --- the inbound webhook validates contact fields as the API does --------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"mail": "not-an-email", "phone": "+14155550100"}, "mail"),
    ({"mail": "a@example.com", "tz": "Mars/Olympus"}, "tz"),
    ({"mail": "a@example.com", "first": "x" * 101}, "first"),
    ({"mail": "a@example.com", "first": {"an": "object"}}, "first"),
    ({"mail": "a@example.com", "plan": {"an": "object"}}, "plan"),
    ({"mail": "a@example.com", "phone": "12"}, "phone"),
])
def test_the_hook_refuses_what_the_api_refuses(app, account, client, as_user, body, field):
    workflow = make_workflow(account, WEBHOOK)
    error = assert_error(client.post(hook_path(workflow.id), json=body), 422, "validation_error")
    assert field in error["fields"] and error["message"].startswith(f"{field}: ")
    assert contacts() == 0
    # The API refuses the same value in the same contact field.
    target = WEBHOOK["trigger"]["config"]["field_map"][field]
    api_body = {"custom_fields": {"plan": body[field]}} if target == "custom.plan" else {target: body[field]}
    assert as_user("admin").post("/api/contacts", json={"first_name": "A", **api_body}).status_code == 422


def test_the_hook_stores_values_as_the_api_would(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    res = client.post(hook_path(workflow.id), json={"mail": " A@Example.com ", "phone": 4155550100,
                                                    "tz": "Europe/London", "first": "  Noor ", "plan": 3})
    assert res.status_code == 202, res.json
    contact = db.session.get(Contact, res.json["contact_id"])
    assert (contact.email, contact.phone, contact.timezone, contact.first_name, contact.custom_fields) == (
        "A@Example.com", "+14155550100", "Europe/London", "Noor", {"plan": 3})


# --- OpenAPI conformance: timestamps, 405, role before validation ---------------------------------

def test_timestamps_carry_their_utc_offset(account, as_user):
    contact = make_contact(account)
    body = as_user("admin").get(f"/api/contacts/{contact.id}").json
    for name in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(body[name])
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, body[name]


def test_live_message_payloads_carry_the_offset_too(account):
    from builder.schemas.messages import ThreadMessageSchema

    dumped = ThreadMessageSchema().dump({"created_at": datetime(2026, 11, 30, 2, 5, 43)})
    assert dumped["created_at"] == "2026-11-30T02:05:43+00:00"


def test_a_405_says_which_methods_are_allowed(as_user):
    res = as_user("admin").put("/api/contacts", json={})
    assert_error(res, 405, "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in res.headers["Allow"].split(",")}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("put", "/api/settings/twilio", {}),
    ("put", "/api/settings/twilio", {"account_sid": "nope"}),
    ("post", "/api/workflows/{wf}/enroll", {}),
    ("post", "/api/workflows/{wf}/publish", {"version": "x"}),
    ("get", "/api/workflows/{wf}/executions?limit=0", None),
    ("delete", "/api/workflows/{wf}?active=maybe", None),
    ("patch", "/api/manual-actions/1", {"assignee_id": "x"}),
    ("post", "/api/contacts", {"email": "x"}),
])
def test_the_role_is_checked_before_the_input(as_user, workflow, method, path, body):
    res = getattr(as_user("agent"), method)(path.format(wf=workflow.id), **({"json": body} if body is not None else {}))
    assert_error(res, 403, "forbidden")


def test_every_role_check_wraps_argument_parsing(app):
    """Read from the views themselves, so a route added later with its decorators the wrong way round fails."""
    role_code = require_role("admin")(lambda: None).__code__
    parse_code = ApiBlueprint("probe", __name__).arguments(Schema)(lambda args: None).__code__
    checked = 0
    for rule in app.url_map.iter_rules():
        layers = []
        view = app.view_functions[rule.endpoint]
        while view is not None:  # outermost first, down the functools.wraps chain
            layers.append(view.__code__)
            view = getattr(view, "__wrapped__", None)
        if role_code in layers:
            checked += 1
            parsed_at = layers.index(parse_code) if parse_code in layers else len(layers)
            assert layers.index(role_code) < parsed_at, f"{rule.rule}: the role is checked after parsing the input"
    assert checked >= 10


# --- the NUL character: PostgreSQL cannot store it, so it is refused everywhere -------------------

@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("post", "/api/workflows", {"name": "\x00", "start": None, "steps": {}}, "name"),
    ("post", "/api/workflows", {**GRAPH, "steps": {"s1": {**GRAPH["steps"]["s1"], "config": {"tag": "a\x00"}}}},
     "steps.s1.config.tag"),
    ("post", "/api/contacts", {"first_name": "Ada", "custom_fields": {"k\x00": "v"}}, "custom_fields.k"),
    ("patch", "/api/contacts/{contact}", {"tags": ["ok", "bad\x00"]}, "tags.1"),
])
def test_nul_in_a_json_body_is_a_422_naming_the_field(app, account, as_user, method, path, body, field):
    contact = make_contact(account)
    res = getattr(as_user("admin"), method)(path.format(contact=contact.id), json=body)
    error = assert_error(res, 422, "validation_error")
    assert list(error["fields"]) == [field]
    assert "NUL" in error["message"]
    assert contacts() == 1
    assert as_user("admin").get("/api/workflows").status_code == 200  # the session is still usable


def test_an_escaped_backslash_before_u0000_is_not_a_nul(app, account, as_user):
    res = as_user("admin").post("/api/contacts", data='{"first_name": "Ada\\\\u0000"}',
                                content_type="application/json")
    assert res.status_code == 201, res.get_data(as_text=True)
    assert res.json["first_name"] == "Ada\\u0000"


def test_nul_in_the_query_string_or_a_form_is_refused(app, account, client, as_user):
    error = assert_error(as_user("admin").get("/api/contacts?q=a%00b"), 422, "validation_error")
    assert list(error["fields"]) == ["q"]
    page = client.post("/login", data={"email": "a\x00@acme.test", "password": "x"})
    assert page.status_code == 422


def test_nul_in_a_webhook_payload_is_refused_and_creates_nobody(app, account, client):
    workflow = make_workflow(account, WEBHOOK)
    res = client.post(hook_path(workflow.id), json={"phone": "+14155550100", "first": "A\x00da"})
    error = assert_error(res, 422, "validation_error")
    assert list(error["fields"]) == ["first"]
    assert contacts() == 0


def test_a_failed_statement_leaves_the_next_request_a_usable_session(app, account, as_user):
    """The 500 handler rolls back: on PostgreSQL an aborted transaction would fail every later query
    that shares the session (a test's app context, or an error page that reads the user)."""
    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))
    app.add_url_rule("/api/test-broken", view_func=broken)
    assert_error(as_user("admin").get("/api/test-broken"), 500, "internal_error")
    assert as_user("admin").get("/api/workflows").status_code == 200


# --- JSON types are what the document says -------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"first_name": "Ada", "dnd_call": 0.0},
    {"first_name": "Ada", "dnd_sms": "yes"},
    {"first_name": "Ada", "is_test": 1},
    {"first_name": "Ada", "custom_fields": {f"k{i}": i for i in range(101)}},
])
def test_json_bodies_take_only_the_documented_types(account, as_user, body):
    assert_error(as_user("admin").post("/api/contacts", json=body), 422, "validation_error")
    assert contacts() == 0


def test_enrolling_takes_a_real_boolean_for_test(as_user, workflow, account):
    contact = make_contact(account)
    res = as_user("admin").post(f"/api/workflows/{workflow.id}/enroll", json={"contact_ids": [contact.id], "test": 1})
    error = assert_error(res, 422, "validation_error")
    assert "test" in error["fields"]


@pytest.mark.parametrize("body", [b"\xef\xbb\xbf", b"\xef\xbb\xbf{}", b"\xff\xfe{}"])
def test_a_body_that_is_not_utf8_json_is_a_400(as_user, body):
    res = as_user("admin").patch("/api/users/me", data=body, content_type="application/json")
    assert_error(res, 400, "bad_request")


def test_length_limits_count_what_was_sent_before_trimming(account, as_user):
    res = as_user("admin").post("/api/contacts", json={"first_name": "\x1f" + "x" * 100})
    assert_error(res, 422, "validation_error")
    assert as_user("admin").post("/api/contacts", json={"first_name": " " + "x" * 99}).status_code == 201
