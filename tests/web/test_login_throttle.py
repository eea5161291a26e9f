"""Login throttling (form and POST /api/auth/token) and equal cost for unknown emails.

Limits are set low here; the defaults stay far above what the rest of the suite needs.
"""

from __future__ import annotations

import statistics
import time

import pytest

from builder.extensions import db

WRONG = "wrong-horse"
RIGHT = "correct-horse"


@pytest.fixture
def limits(app):
    app.config.update(LOGIN_MAX_FAILURES_PER_EMAIL=5, LOGIN_MAX_FAILURES_PER_IP=1000, LOGIN_THROTTLE_WINDOW_SECONDS=900)
    return app.config


def form_login(client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def api_login(client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post("/api/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def assert_refused(resp) -> int:
    assert resp.status_code == 429
    retry_after = int(resp.headers["Retry-After"])
    assert 1 <= retry_after <= 900
    return retry_after


def test_25_wrong_passwords_then_the_right_one_is_refused_on_the_form(client, users, limits):
    statuses = [form_login(client, "agent@acme.test", WRONG).status_code for _ in range(25)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    resp = form_login(client, "agent@acme.test", RIGHT)
    assert_refused(resp)
    page = resp.get_data(as_text=True)
    assert "Too many failed attempts" in page and 'name="password"' in page
    assert client.get("/").status_code == 302  # not logged in


def test_25_wrong_passwords_then_the_right_one_is_refused_on_the_api(client, users, limits):
    for _ in range(25):
        api_login(client, "manager@acme.test", WRONG)
    resp = api_login(client, "manager@acme.test", RIGHT)
    assert_refused(resp)
    assert resp.json["error"]["code"] == "too_many_attempts" and "token" not in resp.json


def test_form_and_api_failures_count_together(client, users, limits):
    for _ in range(3):
        form_login(client, "agent@acme.test", WRONG)
    for _ in range(2):
        api_login(client, "agent@acme.test", WRONG)
    assert_refused(form_login(client, "agent@acme.test", RIGHT))
    assert_refused(api_login(client, "agent@acme.test", RIGHT))


def test_other_addresses_are_unaffected(client, users, limits):
    for _ in range(25):
        form_login(client, "agent@acme.test", WRONG)
    assert form_login(client, "agent2@acme.test", RIGHT).status_code == 302
    assert api_login(client, "manager@acme.test", RIGHT).status_code == 201
    # Whatever case the address is typed in, it is the same address.
    assert_refused(api_login(client, "AGENT@acme.test", RIGHT))


def test_unknown_emails_are_throttled_like_known_ones(client, users, limits):
    for _ in range(5):
        assert api_login(client, "nobody@acme.test", WRONG).status_code == 401
    assert_refused(api_login(client, "nobody@acme.test", WRONG))


def test_a_successful_login_resets_the_address_counter(client, users, limits):
    for _ in range(4):
        assert api_login(client, "agent@acme.test", WRONG).status_code == 401
    assert api_login(client, "agent@acme.test", RIGHT).status_code == 201
    for _ in range(5):
        assert api_login(client, "agent@acme.test", WRONG).status_code == 401
    assert_refused(api_login(client, "agent@acme.test", WRONG))


def test_failures_per_client_ip_are_limited_across_addresses(client, users, limits):
    limits["LOGIN_MAX_FAILURES_PER_IP"] = 8
    for n in range(8):
        assert api_login(client, f"guess{n}@acme.test", WRONG, ip="203.0.113.9").status_code == 401
    assert_refused(api_login(client, "admin@acme.test", RIGHT, ip="203.0.113.9"))
    assert_refused(form_login(client, "admin@acme.test", RIGHT, ip="203.0.113.9"))
    # Another client, and the same address from it, are fine.
    assert api_login(client, "admin@acme.test", RIGHT, ip="198.51.100.7").status_code == 201


def test_successful_logins_do_not_use_up_the_ip_limit(client, users, limits):
    limits["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for _ in range(10):
        assert api_login(client, "agent@acme.test", RIGHT).status_code == 201
    for _ in range(3):
        assert api_login(client, "agent@acme.test", WRONG).status_code == 401
    assert_refused(api_login(client, "agent@acme.test", WRONG))


def test_the_block_ends_with_the_window(client, users, limits):
    limits.update(LOGIN_MAX_FAILURES_PER_EMAIL=2, LOGIN_THROTTLE_WINDOW_SECONDS=5)
    for _ in range(2):
        api_login(client, "agent@acme.test", WRONG)
    retry_after = assert_refused(api_login(client, "agent@acme.test", RIGHT))
    assert retry_after <= 5
    time.sleep(retry_after)  # Retry-After is rounded up: retrying then works
    assert api_login(client, "agent@acme.test", RIGHT).status_code == 201


def test_an_inactive_users_right_password_counts_as_a_failure(client, users, limits):
    users["agent"].active = False
    db.session.commit()
    for _ in range(5):
        assert api_login(client, "agent@acme.test", RIGHT).status_code == 401
    assert_refused(api_login(client, "agent@acme.test", RIGHT))


def _median_seconds(client, emails: list[str], tries: int = 7) -> dict[str, float]:
    """Median time of a failed login per email, the emails taken in turn so that a busy moment hits them alike."""
    times: dict[str, list[float]] = {email: [] for email in emails}
    for _ in range(tries):
        for email in emails:
            start = time.perf_counter()
            assert api_login(client, email, WRONG).status_code == 401
            times[email].append(time.perf_counter() - start)
    return {email: statistics.median(values) for email, values in times.items()}


def test_an_unknown_email_costs_as_much_as_a_wrong_password(client, users, limits):
    users["agent2"].active = False
    db.session.commit()
    limits.update(LOGIN_MAX_FAILURES_PER_EMAIL=100)
    api_login(client, "nobody@acme.test", WRONG)  # warm up: the dummy hash is made on first use
    medians = _median_seconds(client, ["agent@acme.test", "nobody@acme.test", "agent2@acme.test"])
    known, unknown, inactive = medians.values()
    # Every path checks one password hash; without that the unknown path is ~30x faster.
    assert unknown >= known / 2 and inactive >= known / 2, medians
