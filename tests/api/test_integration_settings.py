"""Settings > Integrations (signing secret, Slack URL) and the Webhook / Send Slack Message configs
through the workflow API: round trips, 422s naming step and field, roles, secrets kept secret."""

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import outbound
from builder.models import AuditEvent, OutboundSettings

PATH = "/api/settings/integrations"
SLACK = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"


def graph(steps: dict) -> dict:
    return {"name": "Hooks", "start": next(iter(steps)), "steps": steps}


WEBHOOK = {"type": "webhook", "config": {
    "method": "PATCH", "url": "https://example.com/contacts/{{ contact.id }}",
    "headers": [{"name": "Authorization", "value": "Bearer abc"}],
    "query": [{"name": "src", "value": "{{ contact.first_name }}"}],
    "body": '{"email": "{{ contact.email }}", "vip": true}', "timeout_seconds": 5, "retries": 1}, "next": "s"}
SLACK_STEP = {"type": "send_slack_message", "config": {"text": "Lead {{ contact.first_name }}"}, "next": None}


# --- the configs through the workflow API ---------------------------------------------------
# A step saved without a retry policy or an On failure exit keeps the app's defaults.
NO_POLICY = {"retry_attempts": None, "retry_backoff_seconds": None, "failure_next": None}


def test_webhook_and_slack_configs_round_trip_with_defaults(as_user):
    api = as_user("manager")
    created = api.post("/api/workflows", json=graph({"w": WEBHOOK, "s": SLACK_STEP}))
    assert created.status_code in (200, 201), created.json
    steps = api.get(f"/api/workflows/{created.json['id']}").json["graph"]["steps"]
    assert steps["w"]["config"] == {**WEBHOOK["config"], "body_type": "json", "form": [], **NO_POLICY}
    assert steps["s"]["config"] == {**SLACK_STEP["config"], **NO_POLICY}
    minimal = api.post("/api/workflows", json=graph({"w": {"type": "webhook", "config": {"url": "http://x.test/"}}}))
    assert api.get(f"/api/workflows/{minimal.json['id']}").json["graph"]["steps"]["w"]["config"] == {
        "method": "POST", "url": "http://x.test/", "headers": [], "query": [], "body_type": "json", "body": "",
        "form": [], "timeout_seconds": 10, "retries": 3, **NO_POLICY}


@pytest.mark.parametrize("config, path, words", [
    ({"url": "ftp://example.com/file"}, "url", "http:// or https://"),
    ({"url": "javascript:alert(1)"}, "url", "http:// or https://"),
    ({}, "url", "Missing data"),
    ({"url": "https://x.test", "method": "TRACE"}, "method", "Must be one of"),
    ({"url": "https://x.test", "body": '{"a": {{ contact.id }}}'}, "body", "Not valid JSON"),
    ({"url": "https://x.test", "body": '{"a": "{{ contact.nope( ) }}"}'}, "body", "Merge field error"),
    ({"url": "https://x.test", "headers": [{"name": "Idempotency-Key", "value": "x"}]}, "headers.0.name", "set by"),
    ({"url": "https://x.test", "headers": [{"name": "Bad Name", "value": "x"}]}, "headers.0.name", "letters"),
    ({"url": "https://x.test", "timeout_seconds": 120}, "timeout_seconds", "less than or equal to 30"),
    ({"url": "https://x.test", "retries": 9}, "retries", "less than or equal to 5"),
    ({"url": "https://{{ contact.bogus( ) }}"}, "url", "Merge field error"),
])
def test_bad_webhook_configs_are_422_naming_step_and_field(as_user, config, path, words):
    resp = as_user("manager").post("/api/workflows", json=graph({"hook": {"type": "webhook", "config": config}}))
    assert resp.status_code == 422
    fields = resp.json["error"]["fields"]
    assert list(fields) == [f"steps.hook.config.{path}"], fields
    assert words in " ".join(fields[f"steps.hook.config.{path}"])


def test_an_empty_slack_message_is_422(as_user):
    resp = as_user("manager").post("/api/workflows", json=graph({"s": {"type": "send_slack_message",
                                                                        "config": {"text": ""}}}))
    assert resp.status_code == 422 and list(resp.json["error"]["fields"]) == ["steps.s.config.text"]


def test_the_catalog_lists_both_types_in_their_categories(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    assert types["webhook"]["category"] == "Send Data"
    assert types["send_slack_message"]["category"] == "Communication"


# --- Settings > Integrations ---------------------------------------------------------------

@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_see_or_change_the_integrations(app, as_user, role):
    api = as_user(role)
    assert api.get(PATH).status_code == 403
    assert api.post(f"{PATH}/signing-secret", json={}).status_code == 403
    assert api.put(f"{PATH}/slack", json={"url": SLACK}).status_code == 403
    assert api.delete(f"{PATH}/slack").status_code == 403
    assert db.session.scalar(select(OutboundSettings)) is None


def test_anonymous_requests_are_refused(app, client):
    assert client.get(PATH).status_code == 401
    assert client.put(f"{PATH}/slack", json={"url": SLACK}).status_code == 401


def test_the_signing_secret_is_made_once_shown_to_admins_and_rotated(app, as_user, account):
    api = as_user("admin")
    first = api.get(PATH).json
    assert first["signing_secret"].startswith("fdsk_") and len(first["signing_secret"]) > 40
    assert api.get(PATH).json["signing_secret"] == first["signing_secret"]
    assert outbound.signing_secret(account.id) == first["signing_secret"]
    stored = db.session.scalar(select(OutboundSettings.signing_secret_encrypted))
    assert first["signing_secret"] not in stored  # encrypted at rest
    rotated = api.post(f"{PATH}/signing-secret", json={})
    assert rotated.status_code == 200
    assert rotated.json["signing_secret"] not in (first["signing_secret"], None)
    db.session.expire_all()
    assert outbound.signing_secret(account.id) == rotated.json["signing_secret"]
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["settings.signing_secret_rotated"]
    assert rotated.json["signing_secret"] not in str(db.session.scalar(select(AuditEvent.details)))


def test_the_slack_url_is_stored_encrypted_and_never_echoed(app, as_user, account):
    api = as_user("admin")
    assert api.get(PATH).json["slack_webhook_url_set"] is False
    saved = api.put(f"{PATH}/slack", json={"url": SLACK})
    assert saved.status_code == 200
    assert SLACK not in saved.get_data(as_text=True) and SLACK not in api.get(PATH).get_data(as_text=True)
    assert saved.json["slack_webhook_url_set"] is True
    assert saved.json["slack_webhook_url_hint"] == "https://hooks.slack.com/…mnop"
    assert SLACK not in db.session.scalar(select(OutboundSettings.slack_webhook_url_encrypted))
    assert outbound.slack_url(account.id) == SLACK
    removed = api.delete(f"{PATH}/slack")
    assert removed.json["slack_webhook_url_set"] is False and removed.json["slack_webhook_url_hint"] is None
    db.session.expire_all()
    assert outbound.slack_url(account.id) is None
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == [
        "settings.slack_saved", "settings.slack_removed"]


@pytest.mark.parametrize("url", ["ftp://hooks.slack.com/x", "not a url", ""])
def test_a_slack_url_that_is_not_http_is_422(app, as_user, url):
    resp = as_user("admin").put(f"{PATH}/slack", json={"url": url})
    assert resp.status_code == 422 and list(resp.json["error"]["fields"]) == ["url"]


def test_accounts_do_not_share_secrets(app, as_user, account):
    from builder.models import Account

    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    mine = as_user("admin").get(PATH).json["signing_secret"]
    assert outbound.signing_secret(other.id) != mine
