"""Settings > Twilio: the admin-only API and page, a write-only encrypted token,
validation, and which provider each account gets."""

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import twilio_settings
from builder.integrations.providers import ConsoleProvider, get_provider
from builder.integrations.twilio_provider import TwilioProvider
from builder.models import Account, TwilioSettings
from tests.factories import ApiClient
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

PATH = "/api/settings/twilio"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
VALID = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "(202) 555-0123"}


def put(as_user, body, role="admin"):
    return as_user(role).put(PATH, json=body)


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_read_or_change_the_settings(app, as_user, role):
    assert as_user(role).get(PATH).status_code == 403
    assert put(as_user, VALID, role).status_code == 403
    assert as_user(role).delete(PATH).status_code == 403
    assert db.session.scalar(select(TwilioSettings)) is None


def test_anonymous_requests_are_refused(app, client):
    assert client.get(PATH).status_code == 401
    assert client.put(PATH, json=VALID).status_code == 401


def test_saving_never_returns_the_token(app, as_user, account):
    saved = put(as_user, VALID)
    assert saved.status_code == 200, saved.json
    assert saved.json == {**saved.json, "source": "account", "account_sid": ACCOUNT_SID, "from_number": FROM_NUMBER,
                          "messaging_service_sid": None, "auth_token_set": True}
    read = as_user("admin").get(PATH)
    assert "auth_token" not in read.json and AUTH_TOKEN not in read.get_data(as_text=True)
    assert AUTH_TOKEN not in saved.get_data(as_text=True)
    assert read.json["auth_token_set"] is True and read.json["updated_at"]


def test_the_token_is_encrypted_in_the_table(app, as_user, account):
    put(as_user, VALID)
    raw = db.session.execute(db.text("SELECT auth_token_encrypted FROM twilio_settings")).scalar_one()
    assert AUTH_TOKEN not in raw and twilio_settings.decrypt_token(raw) == AUTH_TOKEN
    assert twilio_settings.credentials_for(account.id).auth_token == AUTH_TOKEN


@pytest.mark.parametrize("change, field", [
    ({"account_sid": "AB" + "0" * 32}, "account_sid"),
    ({"account_sid": ACCOUNT_SID[:-1]}, "account_sid"),
    ({"from_number": "12"}, "from_number"),
    ({"from_number": None}, "from_number"),  # no sender at all
    ({"messaging_service_sid": "MGshort"}, "messaging_service_sid"),
    ({"auth_token": "has spaces in it, many of them"}, "auth_token"),
    ({"auth_token": None}, "auth_token"),  # nothing stored yet
])
def test_invalid_settings_are_422_naming_the_field(app, as_user, change, field):
    resp = put(as_user, {**VALID, **change})
    assert resp.status_code == 422 and field in resp.json["error"]["fields"], resp.json
    assert db.session.scalar(select(TwilioSettings)) is None
    if change.get("auth_token"):
        assert change["auth_token"] not in resp.get_data(as_text=True)  # never echoed back


def test_a_messaging_service_alone_is_a_sender(app, as_user):
    resp = put(as_user, {**VALID, "from_number": None, "messaging_service_sid": SERVICE_SID})
    assert resp.status_code == 200 and resp.json["messaging_service_sid"] == SERVICE_SID


def test_a_blank_token_keeps_the_stored_one_until_the_account_changes(app, as_user, account):
    put(as_user, VALID)
    kept = put(as_user, {**VALID, "auth_token": None, "from_number": "+12025550100"})
    assert kept.status_code == 200 and kept.json["from_number"] == "+12025550100"
    assert twilio_settings.credentials_for(account.id).auth_token == AUTH_TOKEN
    other = put(as_user, {**VALID, "account_sid": "AC" + "f" * 32, "auth_token": None})
    assert other.status_code == 422 and "auth_token" in other.json["error"]["fields"]


def test_removing_falls_back_to_the_environment_then_the_console(app, as_user, account):
    assert as_user("admin").get(PATH).json["source"] == "none"
    put(as_user, VALID)
    assert as_user("admin").delete(PATH).status_code == 204
    assert as_user("admin").get(PATH).json == {
        "source": "none", "account_sid": None, "from_number": None, "messaging_service_sid": None,
        "auth_token_set": False, "updated_at": None}
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER)
    env = as_user("admin").get(PATH)
    assert env.json["source"] == "environment" and env.json["account_sid"] == ACCOUNT_SID
    assert AUTH_TOKEN not in env.get_data(as_text=True)


def test_each_account_gets_its_own_provider(app, as_user, account):
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    assert isinstance(get_provider(account.id), ConsoleProvider)
    put(as_user, VALID)
    assert isinstance(get_provider(account.id), TwilioProvider)
    assert isinstance(get_provider(other.id), ConsoleProvider)


def test_admins_of_one_account_see_only_their_own_settings(app, as_user, client, account):
    put(as_user, VALID)
    from builder.domain.users import create_user

    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    outsider = create_user("admin@other.test", "admin", "correct-horse", "Olga", other)
    assert ApiClient(client, outsider).get(PATH).json["source"] == "none"


# --- the page --------------------------------------------------------------------

def login(client, user):
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "correct-horse"}).status_code == 302


def test_the_settings_page_is_for_admins(app, client, users):
    assert client.get("/settings/twilio").status_code == 302  # to the login page
    login(client, users["agent"])
    assert client.get("/settings/twilio").status_code == 403
    login(client, users["admin"])
    page = client.get("/settings/twilio")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="auth_token"' in text and "settings_twilio.js" in text
    assert "http://localhost/webhooks/twilio/sms" in text


@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("manager", False), ("agent", False)])
def test_only_admins_see_the_settings_link(app, client, users, role, shown):
    login(client, users[role])
    assert ('href="/settings/twilio"' in client.get("/").get_data(as_text=True)) is shown


def test_the_page_never_contains_the_token(app, client, users, as_user):
    put(as_user, VALID)
    login(client, users["admin"])
    assert AUTH_TOKEN not in client.get("/settings/twilio").get_data(as_text=True)
