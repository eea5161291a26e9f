"""Errors on pages are shown in the app's layout; the API keeps its JSON errors."""

from __future__ import annotations

from tests.web.test_contact_pages import login


def test_an_unknown_page_is_a_styled_404_in_the_layout(client, users):
    login(client, "agent@acme.test")
    resp = client.get("/no-such-page")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "Page not found" in html
    assert 'aria-label="Main"' in html  # the app's navigation, not the framework's bare page
    assert "Back to the dashboard" in html


def test_a_missing_record_behind_a_page_is_a_styled_404(client, users):
    login(client, "agent@acme.test")
    resp = client.get("/contacts/999999")
    assert resp.status_code == 404
    assert "Page not found" in resp.get_data(as_text=True)


def test_logged_out_visitors_get_the_layout_with_a_login_link(client):
    resp = client.get("/no-such-page")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "Page not found" in html and 'href="/login"' in html
    assert 'aria-label="Main"' not in html  # no navigation for someone not logged in


def test_a_page_method_not_allowed_keeps_its_allow_header(client, users):
    login(client, "agent@acme.test")
    resp = client.delete("/contacts")
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
    assert "That is not allowed here" in resp.get_data(as_text=True)


def test_the_api_still_answers_json(client, users):
    login(client, "agent@acme.test")
    resp = client.get("/api/no-such-endpoint")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_the_favicon(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 301 and resp.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
