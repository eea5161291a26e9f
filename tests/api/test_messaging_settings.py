"""Settings > Messaging: the account's opt-out / opt-in keywords and quiet hours (admins only)."""

from __future__ import annotations

import pytest

from builder.extensions import db
from builder.models import Account

PATH = "/api/settings/messaging"
GOOD = {"opt_out_keywords": ["stop", "Arret"], "opt_in_keywords": ["start"], "quiet_hours_enabled": True,
        "quiet_hours_start": "09:00", "quiet_hours_end": "20:30"}


def stored(account: Account) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account.id)


def test_admins_read_the_defaults(app, users, as_user):
    resp = as_user("admin").get(PATH)
    assert resp.status_code == 200
    body = resp.json
    assert body["opt_out_keywords"] == ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
    assert body["opt_in_keywords"] == ["START", "YES", "UNSTOP"]
    assert body["defaults"]["opt_in_keywords"] == ["START", "YES", "UNSTOP"]
    assert (body["quiet_hours_start"], body["quiet_hours_end"]) == ("08:00", "21:00")


def test_admins_save_keywords_upper_cased_and_deduplicated(app, account, users, as_user):
    resp = as_user("admin").put(PATH, json={**GOOD, "opt_out_keywords": ["stop", " Arret ", "STOP", "arret"]})
    assert resp.status_code == 200
    assert resp.json["opt_out_keywords"] == ["STOP", "ARRET"] and resp.json["opt_in_keywords"] == ["START"]
    row = stored(account)
    assert row.opt_out_keywords == ["STOP", "ARRET"]
    assert row.quiet_hours == {"start": "09:00", "end": "20:30"}


def test_saving_the_defaults_keeps_following_them(app, account, users, as_user):
    defaults = as_user("admin").get(PATH).json["defaults"]
    resp = as_user("admin").put(PATH, json={**GOOD, **defaults})
    assert resp.status_code == 200
    row = stored(account)
    assert row.opt_out_keywords is None and row.opt_in_keywords is None


def test_quiet_hours_can_be_switched_off_and_run_overnight(app, account, users, as_user):
    resp = as_user("admin").put(PATH, json={**GOOD, "quiet_hours_enabled": False, "quiet_hours_start": "22:00",
                                            "quiet_hours_end": "06:00"})
    assert resp.status_code == 200 and resp.json["quiet_hours_enabled"] is False
    assert stored(account).quiet_hours is None


@pytest.mark.parametrize(("change", "field"), [
    ({"opt_out_keywords": []}, "opt_out_keywords"),
    ({"opt_out_keywords": ["opt out"]}, "opt_out_keywords.0"),
    ({"opt_out_keywords": ["STOP", "no!"]}, "opt_out_keywords.1"),
    ({"opt_out_keywords": ["under_score"]}, "opt_out_keywords.0"),
    ({"opt_in_keywords": ["HELP"]}, "opt_in_keywords.0"),
    ({"opt_out_keywords": ["STOP", "YES"], "opt_in_keywords": ["yes"]}, "opt_in_keywords"),
    ({"quiet_hours_start": "8:00"}, "quiet_hours_start"),
    ({"quiet_hours_end": "24:00"}, "quiet_hours_end"),
    ({"quiet_hours_end": "09:00"}, "quiet_hours_end"),  # the same as the start
    ({"quiet_hours_enabled": None}, "quiet_hours_enabled"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_settings_are_a_422_naming_the_field(app, account, users, as_user, change, field):
    resp = as_user("admin").put(PATH, json={**GOOD, **change})
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["fields"]
    assert stored(account).opt_out_keywords is None


def test_a_missing_field_is_named(app, users, as_user):
    body = dict(GOOD)
    del body["opt_in_keywords"]
    resp = as_user("admin").put(PATH, json=body)
    assert resp.status_code == 422 and "opt_in_keywords" in resp.json["error"]["fields"]


@pytest.mark.parametrize("role", ["manager", "agent"])
@pytest.mark.parametrize("body", [GOOD, {"opt_out_keywords": "nonsense"}, {}])
def test_only_admins_change_them_whatever_the_body(app, account, users, as_user, role, body):
    assert as_user(role).get(PATH).status_code == 403
    resp = as_user(role).put(PATH, json=body)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "forbidden"
    assert stored(account).opt_out_keywords is None


def test_the_settings_are_per_account(app, account, users, as_user):
    other = Account(name="Other")
    db.session.add(other)
    db.session.commit()
    as_user("admin").put(PATH, json=GOOD)
    assert stored(other).opt_out_keywords is None and stored(other).quiet_hours_start == "08:00"


def test_the_page_is_for_admins_and_linked_from_the_menu(app, client, users):
    def login(role: str) -> None:
        client.post("/logout")
        client.post("/login", data={"email": f"{role}@acme.test", "password": "correct-horse"})

    login("admin")
    page = client.get("/settings/messaging")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="messaging-form"' in html and "js/settings_messaging.js" in html
    assert 'href="/settings/messaging"' in client.get("/settings/twilio").get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html  # the page works under a strict CSP
    login("agent")
    assert client.get("/settings/messaging").status_code == 403
    assert 'href="/settings/messaging"' not in client.get("/").get_data(as_text=True)


def test_existing_accounts_get_the_defaults_on_upgrade(tmp_path, redis_url):
    """0008 adds the columns in place (accounts is referenced by every table) with quiet hours on, 08:00-21:00."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app import create_app
    from builder import config
    from tests.factories import app_config

    app = create_app(app_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url))
    directory = str(config.ROOT_DIR / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0007")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')"))
            conn.execute(text("INSERT INTO users (id, account_id, email, name, role, password_hash, active, "
                              "created_at) VALUES (1, 1, 'a@acme.test', 'A', 'admin', '', 1, '2026-01-01')"))
        upgrade(directory=directory, revision="0008")
        db.session.expire_all()
        account = db.session.get(Account, 1)
        values = (account.opt_out_words, account.quiet_hours)
        db.session.remove()
        downgrade(directory=directory, revision="0007")
        with db.engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM accounts")).scalars().all()
        db.engine.dispose()
    assert values == (Account.DEFAULT_OPT_OUT, {"start": "08:00", "end": "21:00"})
    assert names == ["Acme"]
