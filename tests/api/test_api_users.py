"""Users API: the team list for admins and managers, and each user's own phone for Manual Call."""

import pytest

from builder.extensions import db
from builder.models import User


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 200), ("agent", 403)])
def test_the_team_list_is_for_admins_and_managers(as_user, role, status):
    res = as_user(role).get("/api/users")
    assert res.status_code == status
    if status == 200:
        assert {u["role"] for u in res.json} == {"admin", "manager", "agent"}
        assert all("phone" not in u and "password_hash" not in u for u in res.json)


def test_anyone_sets_their_own_phone_in_e164(as_user, users):
    api = as_user("agent")
    res = api.patch("/api/users/me", json={"phone": "(415) 555-0100"})
    assert res.status_code == 200, res.json
    assert res.json["phone"] == "+14155550100" and res.json["id"] == users["agent"].id
    assert api.get("/api/users/me").json["phone"] == "+14155550100"
    assert api.patch("/api/users/me", json={"phone": ""}).json["phone"] is None
    db.session.expire_all()
    assert db.session.get(User, users["agent"].id).phone is None
    assert db.session.get(User, users["agent2"].id).phone is None


def test_an_invalid_phone_is_422_naming_the_field_and_changes_nothing(as_user, users):
    api = as_user("manager")
    api.patch("/api/users/me", json={"phone": "+14155550100"})
    res = api.patch("/api/users/me", json={"phone": "12"})
    assert res.status_code == 422 and "phone" in res.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(User, users["manager"].id).phone == "+14155550100"


def test_a_session_write_needs_the_csrf_token(app, client, users):
    client.post("/login", data={"email": users["agent"].email, "password": "correct-horse"})
    assert client.patch("/api/users/me", json={"phone": "+14155550100"}).status_code == 400
