import re

from builder.extensions import db
from tests.factories import app_config


def login(client, email, password="correct-horse", **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def test_pages_need_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_login_then_home_shows_the_dashboard(client, users):
    resp = login(client, "agent@acme.test")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Pending manual actions" in page
    assert "Agent (agent)" in page


def test_wrong_password_and_inactive_users_are_refused(client, users):
    assert login(client, "agent@acme.test", "nope").status_code == 401
    users["agent"].active = False
    db.session.commit()
    assert login(client, "agent@acme.test").status_code == 401


def test_login_redirect_stays_on_this_site(client, users):
    resp = login(client, "agent@acme.test", query_string={"next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"
    resp = login(client, "admin@acme.test", query_string={"next": "/api/openapi.json"})
    assert resp.headers["Location"] == "/api/openapi.json"


def test_user_written_text_is_escaped(client, users, account, as_user):
    as_user("admin").post("/api/workflows", json={"name": "<script>alert(1)</script>", "start": None, "steps": {}})
    login(client, "admin@acme.test")
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_forms_need_a_csrf_token(database_url, redis_url):
    from app import create_app
    from builder.domain.users import create_user
    from builder.models import Account

    app = create_app({**app_config(database_url, redis_url), "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        account = Account(name="A")
        db.session.add(account)
        db.session.commit()
        create_user("csrf@acme.test", "agent", "correct-horse", account=account)
        client = app.test_client()
        assert login(client, "csrf@acme.test").status_code == 400  # no token
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        resp = client.post("/login", data={"email": "csrf@acme.test", "password": "correct-horse", "csrf_token": token})
        assert resp.status_code == 302
        # A session-authenticated API write needs the token in a header too.
        resp = client.post("/api/workflows", json={"name": "x", "start": None, "steps": {}})
        assert resp.status_code == 400 and "CSRF" in resp.json["error"]["message"]
        db.session.remove()
        db.drop_all()


def test_bearer_tokens(client, users):
    resp = client.post("/api/auth/token", json={"email": "manager@acme.test", "password": "correct-horse"})
    assert resp.status_code == 201
    token = resp.json["token"]
    assert client.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/users", headers={"Authorization": "Bearer wrong"}).status_code == 401
    bad = client.post("/api/auth/token", json={"email": "manager@acme.test", "password": "nope"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"
    users["manager"].active = False
    db.session.commit()
    assert client.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_users_list_is_for_admins_and_managers(as_user):
    rows = as_user("admin").get("/api/users").json
    assert {r["role"] for r in rows} == {"admin", "manager", "agent"}
    assert "password_hash" not in rows[0]
    assert as_user("agent").get("/api/users").status_code == 403


def test_logout(client, users):
    login(client, "agent@acme.test")
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
