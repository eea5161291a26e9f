"""Settings > Team over /api/team (admins) and everyone's own profile over /api/users/me."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from builder.extensions import db
from builder.models import ApiToken, ManualAction, User, UserSession
from tests.engine.test_actions import assign_flow, assignees, enroll, flow
from tests.factories import ApiClient, connect, drain, make_contact, make_outsider, make_workflow, received

SMS_STEP = {"m": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi"}, "next": None}}
NEW = {"email": "New.Person@Acme.test", "name": "Nia New", "role": "agent", "phone": "(415) 555-0101"}


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


class Browser:
    """A test client logged in with a session. The tests share one app context, whose `g` would keep
    Flask-Login's user of one request for the next: each request starts without it, as in production."""

    def __init__(self, app, email: str, password: str = "correct-horse"):
        self.client = app.test_client()
        assert self.post("/login", data={"email": email, "password": password}).status_code == 302

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            g.pop("_login_user", None)
            try:
                return getattr(self.client, method)(*args, **kwargs)
            finally:
                g.pop("_login_user", None)

        return call


def token_works(client, email: str, password: str) -> bool:
    return client.post("/api/auth/token", json={"email": email, "password": password}).status_code == 201


def queued_for(app, account, user: User, count: int = 2) -> list[int]:
    """`count` queued Manual SMS actions assigned to `user` (from a real run)."""
    wf = make_workflow(account, flow(SMS_STEP))
    contacts = [make_contact(account, first_name=f"C{n}", assigned_user_id=user.id) for n in range(count)]
    enroll(app, wf, contacts)
    ids = list(db.session.scalars(select(ManualAction.id).where(ManualAction.assignee_id == user.id)))
    assert len(ids) == count
    return ids


# --- who may ------------------------------------------------------------------------------

CALLS = [("get", "/api/team", None), ("post", "/api/team", NEW), ("patch", "/api/team/{id}", {"role": "manager"}),
         ("post", "/api/team/{id}/deactivate", {}), ("post", "/api/team/{id}/reactivate", None),
         ("post", "/api/team/{id}/reset-password", None),
         ("post", "/api/team/{id}/reassign-actions", {"reassign_to": None})]


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_manage_the_team(app, users, as_user, role):
    api = as_user(role)
    for method, path, body in CALLS:
        res = getattr(api, method)(path.format(id=users["agent2"].id), json=body)
        assert res.status_code == 403, (method, path, res.json)
    assert fresh(users["agent2"]).active and fresh(users["agent2"]).role == "agent"
    assert db.session.scalar(select(User).where(User.email == "new.person@acme.test")) is None


def test_another_accounts_people_are_not_found(app, users, as_user):
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    for method, path, body in CALLS[2:]:
        res = getattr(outsider, method)(path.format(id=users["agent"].id), json=body)
        assert res.status_code == 404, (method, path, res.json)
    assert [u["email"] for u in outsider.get("/api/team").json] == ["boss@other.test"]
    assert fresh(users["agent"]).active and fresh(users["agent"]).role == "agent"


# --- list and add -----------------------------------------------------------------------------

def test_admins_list_everyone_with_phone_and_status(app, users, as_user):
    users["agent2"].active, users["agent2"].phone = False, "+14155550111"
    db.session.commit()
    rows = {u["email"]: u for u in as_user("admin").get("/api/team").json}
    assert set(rows) == {"admin@acme.test", "manager@acme.test", "agent@acme.test", "agent2@acme.test"}
    assert rows["agent2@acme.test"]["active"] is False and rows["agent2@acme.test"]["phone"] == "+14155550111"
    assert all("password_hash" not in row for row in rows.values())


def test_adding_a_person_answers_a_temporary_password_once(app, client, users, as_user):
    res = as_user("admin").post("/api/team", json=NEW)
    assert res.status_code == 201, res.json
    user, password = res.json["user"], res.json["temporary_password"]
    assert user["email"] == "new.person@acme.test" and user["phone"] == "+14155550101" and user["active"]
    assert len(password) >= 16
    row = db.session.get(User, user["id"])
    assert row.account_id == users["admin"].account_id and row.password_hash != password
    assert token_works(client, "new.person@acme.test", password)
    assert "temporary_password" not in str(as_user("admin").get("/api/team").json)


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "not-an-email"}, "email"), ({"email": "AGENT@acme.test"}, "email"), ({"role": "owner"}, "role"),
    ({"phone": "12"}, "phone"), ({"name": "x" * 201}, "name"), ({"email": None}, "email"),
])
def test_a_bad_person_is_a_422_naming_the_field(app, users, as_user, change, field):
    res = as_user("admin").post("/api/team", json={**NEW, **change})
    assert res.status_code == 422, res.json
    assert field in res.json["error"]["fields"]
    assert db.session.scalar(select(User).where(User.name == "Nia New")) is None


# --- roles -----------------------------------------------------------------------------------

def test_admins_change_a_role_name_and_phone(app, users, as_user):
    res = as_user("admin").patch(f"/api/team/{users['agent'].id}",
                                 json={"role": "manager", "name": "Alex Lead", "phone": "+14155550123"})
    assert res.status_code == 200, res.json
    row = fresh(users["agent"])
    assert (row.role, row.name, row.phone) == ("manager", "Alex Lead", "+14155550123")
    assert as_user("agent").get("/api/users").status_code == 200  # the new role applies at once


def test_the_last_admin_cannot_step_down_but_one_of_two_can(app, users, as_user):
    admin = as_user("admin")
    res = admin.patch(f"/api/team/{users['admin'].id}", json={"role": "manager"})
    assert res.status_code == 409 and "role" in res.json["error"]["fields"]
    assert fresh(users["admin"]).role == "admin"
    assert admin.patch(f"/api/team/{users['manager'].id}", json={"role": "admin"}).status_code == 200
    assert admin.patch(f"/api/team/{users['admin'].id}", json={"role": "agent"}).status_code == 200
    assert fresh(users["admin"]).role == "agent"


def test_a_deactivated_admin_does_not_count_as_the_other_admin(app, users, as_user):
    other = fresh(users["manager"])
    other.role, other.active = "admin", False
    db.session.commit()
    res = as_user("admin").patch(f"/api/team/{users['admin'].id}", json={"role": "agent"})
    assert res.status_code == 409


# --- deactivate and reactivate -----------------------------------------------------------------

def test_deactivation_stops_tokens_sessions_and_logins_at_once(app, users, as_user):
    agent_api, browser = as_user("agent"), Browser(app, "agent@acme.test")
    assert agent_api.get("/api/users/me").status_code == 200 and browser.get("/api/users/me").status_code == 200
    res = as_user("admin").post(f"/api/team/{users['agent'].id}/deactivate", json={})
    assert res.status_code == 200 and res.json["user"]["active"] is False and res.json["reassigned"] == 0
    assert agent_api.get("/api/users/me").status_code == 401
    assert browser.get("/api/users/me").status_code == 401
    assert browser.get("/").status_code == 302  # pages send them to the login page
    assert not token_works(app.test_client(), "agent@acme.test", "correct-horse")
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == users["agent"].id)) is None
    assert db.session.scalar(select(UserSession).where(UserSession.user_id == users["agent"].id)) is None

    assert as_user("admin").post(f"/api/team/{users['agent'].id}/reactivate").json["active"] is True
    assert token_works(app.test_client(), "agent@acme.test", "correct-horse")


def test_admins_cannot_deactivate_themselves(app, users, as_user):
    res = as_user("admin").post(f"/api/team/{users['admin'].id}/deactivate", json={})
    assert res.status_code == 409
    assert fresh(users["admin"]).active


def test_deactivating_hands_the_queued_actions_on_in_one_step_with_live_events(app, account, users, as_user):
    ids = queued_for(app, account, users["agent"])
    listener, leaving = connect(app, users["agent2"]), connect(app, users["agent"])
    drain(listener, leaving)
    res = as_user("admin").post(f"/api/team/{users['agent'].id}/deactivate",
                                json={"reassign_to": users["agent2"].id})
    assert res.status_code == 200 and res.json["reassigned"] == 2
    db.session.expire_all()
    assert {a.assignee_id for a in db.session.scalars(select(ManualAction).where(ManualAction.id.in_(ids)))} == {
        users["agent2"].id}
    events = received(listener, "manual_action.updated")
    assert sorted(e["id"] for e in events) == sorted(ids)
    # Live events are addressed to active people when published: the open connection hears nothing more.
    assert [e["name"] for e in leaving.get_received() if e["name"].startswith("manual_action")] == []
    listener.disconnect()
    leaving.disconnect()


@pytest.mark.parametrize("target", ["self", "inactive", "outsider"])
def test_handing_actions_to_someone_unsuitable_is_a_422_and_deactivates_nobody(app, account, users, as_user, target):
    queued_for(app, account, users["agent"], 1)
    if target == "inactive":
        users["agent2"].active = False
        db.session.commit()
    to = {"self": users["agent"].id, "inactive": users["agent2"].id, "outsider": make_outsider("agent").id}[target]
    res = as_user("admin").post(f"/api/team/{users['agent'].id}/deactivate", json={"reassign_to": to})
    assert res.status_code == 422 and "reassign_to" in res.json["error"]["fields"]
    assert fresh(users["agent"]).active
    assert db.session.scalar(select(ManualAction.assignee_id)) == users["agent"].id


def test_a_deactivated_persons_actions_can_be_handed_on_later(app, account, users, as_user):
    ids = queued_for(app, account, users["agent"])
    admin = as_user("admin")
    assert admin.post(f"/api/team/{users['agent'].id}/deactivate", json={}).json["reassigned"] == 0
    res = admin.post(f"/api/team/{users['agent'].id}/reassign-actions", json={"reassign_to": None})
    assert res.status_code == 200 and res.json["reassigned"] == 2
    db.session.expire_all()
    assert {a.assignee_id for a in db.session.scalars(select(ManualAction).where(ManualAction.id.in_(ids)))} == {None}
    res = admin.post(f"/api/team/{users['agent'].id}/reassign-actions", json={})
    assert res.status_code == 422 and "reassign_to" in res.json["error"]["fields"]


def test_round_robin_skips_a_person_deactivated_here(app, account, users, as_user):
    as_user("admin").post(f"/api/team/{users['agent2'].id}/deactivate", json={})
    wf = make_workflow(account, assign_flow([users["agent"].id, users["agent2"].id]))
    contacts = [make_contact(account) for _ in range(3)]
    enroll(app, wf, contacts)
    assert assignees(contacts) == {users["agent"].id: 3}


# --- passwords ---------------------------------------------------------------------------------

def test_a_password_reset_answers_a_new_one_and_ends_logins(app, client, users, as_user):
    agent_api, browser = as_user("agent"), Browser(app, "agent@acme.test")
    res = as_user("admin").post(f"/api/team/{users['agent'].id}/reset-password")
    assert res.status_code == 200
    password = res.json["temporary_password"]
    assert agent_api.get("/api/users/me").status_code == 401 and browser.get("/api/users/me").status_code == 401
    assert not token_works(client, "agent@acme.test", "correct-horse")
    assert token_works(client, "agent@acme.test", password)


def test_everyone_edits_their_own_name_and_phone(app, users, as_user):
    res = as_user("agent").patch("/api/users/me", json={"name": "Alex A.", "phone": "415 555 0199"})
    assert res.status_code == 200 and (res.json["name"], res.json["phone"]) == ("Alex A.", "+14155550199")
    res = as_user("agent").patch("/api/users/me", json={"name": "   "})
    assert res.status_code == 422 and "name" in res.json["error"]["fields"]
    assert fresh(users["agent"]).name == "Alex A."
    assert as_user("agent").patch("/api/users/me", json={"role": "admin"}).status_code == 422
    assert fresh(users["agent"]).role == "agent"


def test_changing_your_password_needs_the_current_one_and_ends_your_other_sessions(app, users):
    other = Browser(app, "agent@acme.test")
    mine = Browser(app, "agent@acme.test")
    page = mine.get("/settings/profile").get_data(as_text=True)
    csrf = {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)}
    res = mine.post("/api/users/me/password", json={"current_password": "wrong-horse", "new_password": "new-pass-1"},
                    headers=csrf)
    assert res.status_code == 422 and "current_password" in res.json["error"]["fields"]
    res = mine.post("/api/users/me/password", json={"current_password": "correct-horse", "new_password": "short"},
                    headers=csrf)
    assert res.status_code == 422 and "new_password" in res.json["error"]["fields"]
    assert fresh(users["agent"]).check_password("correct-horse")

    res = mine.post("/api/users/me/password", json={"current_password": "correct-horse",
                                                    "new_password": "new-pass-1"}, headers=csrf)
    assert res.status_code == 204, res.json
    assert mine.get("/api/users/me").status_code == 200  # this browser stays logged in
    assert other.get("/api/users/me").status_code == 401
    assert fresh(users["agent"]).check_password("new-pass-1")


def test_guessing_the_current_password_is_throttled_like_logins(app, users, as_user):
    app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] = 2
    api = as_user("agent")
    wrong = {"current_password": "guess-0000", "new_password": "new-pass-1"}
    assert [api.post("/api/users/me/password", json=wrong).status_code for _ in range(2)] == [422, 422]
    res = api.post("/api/users/me/password", json={**wrong, "current_password": "correct-horse"})
    assert res.status_code == 429 and res.json["error"]["code"] == "too_many_attempts"
    assert int(res.headers["Retry-After"]) > 0
    assert fresh(users["agent"]).check_password("correct-horse")


def test_the_new_password_must_differ(app, users, as_user):
    res = as_user("agent").post("/api/users/me/password",
                                json={"current_password": "correct-horse", "new_password": "correct-horse"})
    assert res.status_code == 422 and "new_password" in res.json["error"]["fields"]
