"""Server-side login sessions: logging out, deactivation and a new password end them at once.

A copy of the session cookie taken before is what an attacker would hold; it must stop working.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from builder.extensions import db, socketio
from builder.models import ApiToken, User, UserSession, utcnow
from tests.factories import token_for


@pytest.fixture(autouse=True)
def fresh_user_per_request(app):
    """Load the user afresh on every request, as production does.

    The tests' requests share the app fixture's app context, so Flask-Login's cached
    g._login_user would otherwise carry one request's user into the next.
    """
    app.before_request(forget_user)


def forget_user() -> None:
    g.pop("_login_user", None)


def sio_connects(app, **kwargs) -> bool:
    forget_user()  # Socket.IO events do not run before_request
    return socketio.test_client(app, **kwargs).is_connected()


def login(app, email: str, password: str = "correct-horse"):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def client_with_cookie(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def assert_logged_out(client) -> None:
    assert client.get("/api/users/me").status_code == 401
    page = client.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def assert_logged_in(client, user: User) -> None:
    resp = client.get("/api/users/me")
    assert resp.status_code == 200 and resp.json["id"] == user.id
    assert client.get("/").status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_old_cookie_is_refused_after_logout(app, users):
    client = login(app, "agent@acme.test")
    stolen = cookie_of(client)
    assert_logged_in(client_with_cookie(app, stolen), users["agent"])
    assert client.post("/logout").status_code == 302
    assert_logged_out(client_with_cookie(app, stolen))
    assert not sio_connects(app, flask_test_client=client_with_cookie(app, stolen))


def test_logging_out_ends_only_that_session(app, users):
    laptop, phone = login(app, "agent@acme.test"), login(app, "agent@acme.test")
    other = login(app, "agent2@acme.test")
    laptop.post("/logout")
    assert_logged_out(laptop)
    assert_logged_in(phone, users["agent"])
    assert_logged_in(other, users["agent2"])
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 2


def test_a_session_without_a_server_side_row_is_refused(app, users):
    """A cookie naming a user id alone (as Flask-Login writes it) is not a login."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(users["admin"].id)
        sess["_fresh"] = True
    assert_logged_out(client)


def test_a_session_belongs_to_its_user(app, users):
    client = login(app, "agent@acme.test")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(users["admin"].id)  # the agent's own session row, another user's id
    assert_logged_out(client)


def test_deactivating_a_user_ends_their_sessions_and_tokens_at_once(app, users, runner):
    client = login(app, "agent@acme.test")
    cookie = cookie_of(client)
    token = token_for(users["agent"])
    others = login(app, "agent2@acme.test"), token_for(users["agent2"])
    assert sio_connects(app, flask_test_client=client)

    result = runner.invoke(args=["users", "deactivate", "Agent@acme.test"])
    assert result.exit_code == 0, result.output
    assert_logged_out(client_with_cookie(app, cookie))
    assert app.test_client().get("/api/users/me", headers=bearer(token)).status_code == 401
    assert not sio_connects(app, flask_test_client=client_with_cookie(app, cookie))
    assert not sio_connects(app, auth={"token": token})
    db.session.expire_all()
    user_id = users["agent"].id
    assert not db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
    assert not db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)).all()

    # Activating again does not bring the old session or token back.
    assert runner.invoke(args=["users", "activate", "agent@acme.test"]).exit_code == 0
    assert_logged_out(client_with_cookie(app, cookie))
    assert app.test_client().get("/api/users/me", headers=bearer(token)).status_code == 401
    assert_logged_in(login(app, "agent@acme.test"), users["agent"])

    assert_logged_in(others[0], users["agent2"])
    assert app.test_client().get("/api/users/me", headers=bearer(others[1])).status_code == 200


def test_a_new_password_ends_the_users_sessions_and_tokens(app, users, runner):
    client = login(app, "manager@acme.test")
    token = token_for(users["manager"])
    other = login(app, "admin@acme.test")
    other_token = token_for(users["admin"])

    result = runner.invoke(args=["users", "set-password", "manager@acme.test", "--password", "battery-staple"])
    assert result.exit_code == 0, result.output
    assert_logged_out(client)
    assert app.test_client().get("/api/users/me", headers=bearer(token)).status_code == 401
    assert not sio_connects(app, auth={"token": token})
    assert not sio_connects(app, flask_test_client=client)

    assert app.test_client().post("/login", data={"email": "manager@acme.test", "password": "correct-horse"}
                                  ).status_code == 401
    assert_logged_in(login(app, "manager@acme.test", "battery-staple"), users["manager"])
    assert_logged_in(other, users["admin"])
    assert app.test_client().get("/api/users/me", headers=bearer(other_token)).status_code == 200


def test_last_seen_is_written_at_most_every_few_minutes(app, users):
    client = login(app, "agent@acme.test")
    row = db.session.scalar(select(UserSession))
    first = row.last_seen_at
    client.get("/api/users/me")
    db.session.expire_all()
    assert db.session.scalar(select(UserSession)).last_seen_at == first
    db.session.scalar(select(UserSession)).last_seen_at = first - timedelta(minutes=10)
    db.session.commit()
    client.get("/api/users/me")
    db.session.expire_all()
    assert db.session.scalar(select(UserSession)).last_seen_at >= first


def test_logins_unseen_for_a_month_are_pruned_at_the_next_login(app, users):
    login(app, "agent@acme.test")
    stale = db.session.scalar(select(UserSession))
    stale.last_seen_at = utcnow() - timedelta(days=31)
    db.session.commit()
    stale_hash = stale.id_hash
    login(app, "agent@acme.test")
    db.session.expire_all()
    assert db.session.get(UserSession, stale_hash) is None
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_logging_in_again_replaces_the_browsers_previous_session(app, users):
    client = login(app, "agent@acme.test")
    before = cookie_of(client)
    assert client.post("/login", data={"email": "agent2@acme.test", "password": "correct-horse"}).status_code == 302
    assert_logged_in(client, users["agent2"])
    assert_logged_out(client_with_cookie(app, before))
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
