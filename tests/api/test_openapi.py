"""/api/openapi.json: public, complete for the REST contract, with the request schemas."""

from __future__ import annotations

import re

import pytest

# The REST contract of ARCHITECTURE.md, as OpenAPI paths.
CONTRACT = [
    ("post", "/api/auth/token"),
    ("get", "/api/users"),
    ("post", "/api/contacts"),
    ("get", "/api/contacts"),
    ("get", "/api/contacts/{contact_id}"),
    ("patch", "/api/contacts/{contact_id}"),
    ("delete", "/api/contacts/{contact_id}"),
    ("post", "/api/workflows"),
    ("get", "/api/workflows"),
    ("get", "/api/workflows/{workflow_id}"),
    ("put", "/api/workflows/{workflow_id}"),
    ("post", "/api/workflows/{workflow_id}/publish"),
    ("post", "/api/workflows/{workflow_id}/enroll"),
    ("get", "/api/workflows/{workflow_id}/executions"),
    ("get", "/api/manual-actions"),
    ("post", "/api/manual-actions/{action_id}/complete"),
    ("delete", "/api/manual-actions/{action_id}"),
    ("post", "/api/manual-actions/start"),
    ("post", "/api/manual-actions/{action_id}/skip"),
    ("get", "/api/dashboard/manual-actions"),
]
# Served by the modules these tests were written with; the rest are checked once they are routed.
REQUIRED = {
    "/api/contacts", "/api/contacts/{contact_id}", "/api/manual-actions", "/api/manual-actions/{action_id}/complete",
    "/api/manual-actions/{action_id}", "/api/dashboard/manual-actions", "/api/auth/token", "/api/users",
}


@pytest.fixture
def spec(client) -> dict:
    res = client.get("/api/openapi.json")  # no Authorization header
    assert res.status_code == 200 and res.is_json
    return res.json


def routed(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) for every Flask rule under /api."""
    pairs = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and not rule.rule.startswith("/api/openapi"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            pairs |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return pairs


def test_served_without_auth(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "flowdesk"


def test_lists_every_contract_path_that_is_routed(app, spec):
    served = routed(app)
    for method, path in CONTRACT:
        if path in REQUIRED:
            assert (method, path) in served, f"{method.upper()} {path} is not routed"
        if (method, path) in served:
            assert method in spec["paths"].get(path, {}), f"{method.upper()} {path} is missing from the document"


def test_every_api_route_is_documented(app, spec):
    missing = sorted(f"{m.upper()} {p}" for m, p in routed(app) if m not in spec["paths"].get(p, {}))
    assert missing == []


def schema_of(spec: dict, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else ref_or_schema


def request_schema(spec: dict, method: str, path: str) -> dict:
    body = spec["paths"][path][method]["requestBody"]
    return schema_of(spec, body["content"]["application/json"]["schema"])


def test_request_bodies_have_their_schemas(spec):
    create = request_schema(spec, "post", "/api/contacts")
    assert {"first_name", "last_name", "email", "phone", "timezone", "tags", "custom_fields", "assigned_user_id",
            "dnd_sms", "dnd_call", "is_test"} <= create["properties"].keys()
    assert create["properties"]["tags"]["type"] == "array"
    patch = request_schema(spec, "patch", "/api/contacts/{contact_id}")
    assert "phone" in patch["properties"] and not patch.get("required")
    complete = request_schema(spec, "post", "/api/manual-actions/{action_id}/complete")
    assert {"message", "send_at", "outcome", "notes"} <= complete["properties"].keys()
    assert complete["properties"]["message"]["maxLength"] == 1600
    assert "left_voicemail" in complete["properties"]["outcome"]["enum"]
    token = request_schema(spec, "post", "/api/auth/token")
    assert set(token["required"]) == {"email", "password"}


def test_list_filters_are_documented_as_query_parameters(spec):
    def query_params(path: str) -> set[str]:
        return {p["name"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    assert {"workflow_id", "assignee_id", "contact_id", "type", "status", "page", "per_page"} <= query_params(
        "/api/manual-actions")
    assert {"q", "tag", "assigned_user_id", "page", "per_page"} <= query_params("/api/contacts")


def test_responses_have_their_schemas(spec):
    page = spec["paths"]["/api/manual-actions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    props = schema_of(spec, page)["properties"]
    assert {"items", "total", "page", "per_page"} <= props.keys()
    row = schema_of(spec, props["items"]["items"])
    assert {"id", "type", "status", "contact_name", "workflow_name", "assignee_name", "completed_at"} <= row[
        "properties"].keys()
    counts = spec["paths"]["/api/dashboard/manual-actions"]["get"]["responses"]["200"]["content"]
    assert {"pending_total", "pending_calls", "pending_sms"} <= schema_of(
        spec, counts["application/json"]["schema"])["properties"].keys()


def test_errors_and_bearer_auth_are_documented(client):
    spec = client.get("/api/openapi.json").json
    assert spec["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    error = spec["components"]["schemas"]["ApiError"]["properties"]["error"]
    assert error["$ref"].endswith("/ErrorDetail")
    assert set(spec["components"]["schemas"]["ErrorDetail"]["properties"]) == {"code", "message", "fields"}
    assert spec["paths"]["/api/auth/token"]["post"]["security"] == []


def test_malformed_json_gets_a_clear_message(client):
    resp = client.post("/api/auth/token", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json == {"error": {"code": "bad_request", "message": "The request body is not valid JSON."}}
