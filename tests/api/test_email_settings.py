"""Settings > Email: the admin-only API and page, a write-only sealed password, validation, the audit
log, and which provider each account gets (its own SMTP server, the environment's, else the console)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import email_settings
from builder.integrations.email_provider import ConsoleEmailProvider, SmtpProvider, get_provider
from builder.models import Account, AuditEvent, EmailSettings

PATH = "/api/settings/email"
VALID = {"host": "smtp.acme.test", "port": 587, "security": "starttls", "username": "mailer",
         "password": "p4ss-word", "from_address": "hello@acme.test", "from_name": "Acme", "reply_to": "help@acme.test"}


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_read_or_change_the_settings(app, as_user, role):
    assert as_user(role).get(PATH).status_code == 403
    assert as_user(role).put(PATH, json=VALID).status_code == 403
    assert as_user(role).delete(PATH).status_code == 403
    assert db.session.scalar(select(EmailSettings)) is None


def test_anonymous_requests_are_refused(app, client):
    assert client.get(PATH).status_code == 401
    assert client.put(PATH, json=VALID).status_code == 401


def test_without_settings_the_console_provider_records_emails(app, as_user, account):
    got = as_user("admin").get(PATH)
    assert got.status_code == 200 and got.json["source"] == "none" and got.json["password_set"] is False
    with app.test_request_context():
        assert isinstance(get_provider(account.id), ConsoleEmailProvider)


def test_saving_seals_the_password_and_never_returns_it(app, as_user, account):
    saved = as_user("admin").put(PATH, json=VALID)
    assert saved.status_code == 200, saved.json
    assert saved.json == {**saved.json, "source": "account", "host": "smtp.acme.test", "port": 587,
                          "security": "starttls", "username": "mailer", "password_set": True,
                          "from_address": "hello@acme.test", "from_name": "Acme", "reply_to": "help@acme.test"}
    assert "password" not in saved.json and "p4ss-word" not in saved.get_data(as_text=True)
    row = db.session.get(EmailSettings, account.id)
    assert "p4ss-word" not in row.password_encrypted
    with app.test_request_context():
        provider = get_provider(account.id)
        assert isinstance(provider, SmtpProvider) and provider.settings.password == "p4ss-word"
    # Leaving the password out keeps it.
    again = as_user("admin").put(PATH, json={**VALID, "password": None, "port": 2525})
    assert again.json["port"] == 2525 and again.json["password_set"] is True
    with app.test_request_context():
        assert email_settings.settings_for(account.id).password == "p4ss-word"
    cleared = as_user("admin").put(PATH, json={**VALID, "password": None, "clear_password": True})
    assert cleared.json["password_set"] is False
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["settings.email_saved"] * 3
    assert "p4ss-word" not in str(db.session.scalars(select(AuditEvent.details)).all())


def test_a_password_sealed_under_another_secret_key_is_reported_not_used(app, as_user, account):
    as_user("admin").put(PATH, json=VALID)
    app.config["SECRET_KEY"] = "rotated-" + str(app.config["SECRET_KEY"])
    with app.test_request_context(), pytest.raises(Exception, match="enter it again in Settings > Email"):
        get_provider(account.id)


@pytest.mark.parametrize(("change", "field"), [
    ({"host": "smtp acme"}, "host"),
    ({"port": 0}, "port"),
    ({"port": 70000}, "port"),
    ({"security": "ssl3"}, "security"),
    ({"from_address": "nobody"}, "from_address"),
    ({"reply_to": "not an address"}, "reply_to"),
])
def test_bad_input_is_a_422_naming_the_field(app, as_user, change, field):
    response = as_user("admin").put(PATH, json={**VALID, **change})
    assert response.status_code == 422 and field in response.json["error"]["fields"]
    assert db.session.scalar(select(EmailSettings)) is None


def test_the_environments_settings_apply_to_accounts_without_their_own(app, as_user, account):
    app.config.update(SMTP_HOST="mail.env.test", SMTP_PORT=2525, SMTP_FROM_ADDRESS="env@acme.test",
                      SMTP_PASSWORD="env-pass")
    got = as_user("admin").get(PATH).json
    assert (got["source"], got["host"], got["port"], got["password_set"]) == (
        "environment", "mail.env.test", 2525, True)
    assert "env-pass" not in str(got)


def test_settings_belong_to_one_account_and_removing_them_falls_back(app, as_user, account):
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    as_user("admin").put(PATH, json=VALID)
    with app.test_request_context():
        assert isinstance(get_provider(other.id), ConsoleEmailProvider)
    assert as_user("admin").delete(PATH).status_code == 204
    assert as_user("admin").get(PATH).json["source"] == "none"


def login(client, user):
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "correct-horse"}).status_code == 302


def test_the_page_and_its_link_are_for_admins(app, users):
    client = app.test_client()
    assert client.get("/settings/email").status_code == 302  # to the login page
    login(client, users["manager"])
    assert client.get("/settings/email").status_code == 403
    assert 'href="/settings/email"' not in client.get("/").get_data(as_text=True)
    login(client, users["admin"])
    assert client.get("/settings/email").status_code == 200
    assert 'href="/settings/email"' in client.get("/").get_data(as_text=True)
