"""Every response carries the browser security headers: CSP, no framing, no sniffing, same-origin referrers."""

from __future__ import annotations

import pytest

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def assert_secured(resp) -> None:
    directives = dict(part.strip().split(" ", 1) for part in resp.headers["Content-Security-Policy"].split(";"))
    for name, value in CSP.items():
        assert directives.get(name) == value, (name, directives)
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/", "/api/users/me", "/api/openapi.json", "/static/css/app.css",
                                  "/static/js/dom.js", "/no-such-page", "/api/no-such-thing"])
def test_anonymous_responses_carry_the_headers(client, path):
    assert_secured(client.get(path))


@pytest.mark.parametrize("path", ["/", "/conversations/manual-actions", "/contacts", "/workflows", "/settings/twilio",
                                  "/api/users/me", "/contacts/999999"])
def test_logged_in_pages_carry_the_headers(client, users, path):
    assert client.post("/login", data={"email": "admin@acme.test", "password": "correct-horse"}).status_code == 302
    assert_secured(client.get(path))


def test_failed_logins_and_redirects_carry_the_headers(client, users):
    assert_secured(client.post("/login", data={"email": "admin@acme.test", "password": "nope"}))
    assert_secured(client.post("/api/auth/token", json={"email": "admin@acme.test", "password": "nope"}))
    assert_secured(client.post("/login", data={"email": "admin@acme.test", "password": "correct-horse"}))
