"""Webhook and Send Slack Message steps against a real local HTTP server, through the real engine,
database and RQ jobs: what the receiver gets (rendered, signed, one Idempotency-Key per step run),
retries, permanent failures, timeouts, the address guard, the log output, a worker killed mid-send."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select, update

from builder.extensions import db
from builder.integrations import outbound
from builder.models import Enrollment, ExecutionLog, Note, OutboundRequest
from jobqueue import outbound_http, recovery
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.http_receiver import Received, http_receiver


@pytest.fixture
def receiver(app):
    with http_receiver(app) as got:
        yield got


def flow(steps: dict) -> dict:
    return {"name": "Webhook flow", "start": next(iter(steps)), "steps": steps}


def webhook(url: str, next_step: str | None = None, **config) -> dict:
    return {"type": "webhook", "config": {"url": url, **config}, "next": next_step}


def run_flow(app, account, steps: dict, **contact_fields):
    contact = make_contact(account, **contact_fields)
    wf = make_workflow(account, flow(steps))
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return contact


def the_run() -> Enrollment:
    db.session.expire_all()
    return db.session.scalars(select(Enrollment)).one()


def logs(step_id: str) -> list[ExecutionLog]:
    return list(db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == step_id)
                                   .order_by(ExecutionLog.id)))


def verify(secret: str, got: Received) -> bool:
    """The README's verification snippet."""
    timestamp, signature = got.headers["X-Flowdesk-Timestamp"], got.headers["X-Flowdesk-Signature"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- what the receiver gets ----------------------------------------------------------

def test_the_request_is_rendered_signed_and_its_json_response_logged(app, account, receiver):
    body = json.dumps({"name": "{{ contact.first_name }}", "full": "{{ contact.name }}", "n": 3,
                       "tags": ["{{ contact.tags | join(',') }}"]})
    steps = {
        "w": webhook(receiver.base + "/hooks/{{ contact.id }}", "n", method="PUT", body=body,
                     headers=[{"name": "X-Contact", "value": "{{ contact.first_name | upper }}"}],
                     query=[{"name": "source", "value": "{{ contact.last_name }}"}, {"name": "fixed", "value": "a&b"}]),
        "n": {"type": "add_note", "config": {"body": "after the hook"}, "next": None},
    }
    receiver.answer(200, {"received": True, "id": 42}, headers={"X-Request-Id": "abc", "X-Private": "nope"})
    contact = run_flow(app, account, steps, first_name="Ada", last_name='Love "lace"', tags=["vip"])

    [got] = receiver.received
    assert got.method == "PUT" and got.path == f"/hooks/{contact.id}"
    assert got.query == {"source": ['Love "lace"'], "fixed": ["a&b"]}
    assert got.headers["X-Contact"] == "ADA"
    assert got.headers["Content-Type"] == "application/json"
    assert json.loads(got.body) == {"name": "Ada", "full": 'Ada Love "lace"', "n": 3, "tags": ["vip"]}
    assert got.headers["X-Flowdesk-Signature"].startswith("v1=")
    assert verify(outbound.signing_secret(account.id), got)
    assert not verify("another secret", got)

    parked, done = logs("w")
    assert parked.outcome == "parked" and parked.output["status"] == "queued"
    assert got.headers["Idempotency-Key"] == parked.idempotency_key == parked.output["idempotency_key"]
    assert done.outcome == "ok"
    assert done.output["status"] == 200 and done.output["body"] == {"received": True, "id": 42}
    assert done.output["headers"]["x-request-id"] == "abc" and "x-private" not in done.output["headers"]
    assert done.output["truncated"] is False and done.output["attempts"] == 1
    assert the_run().status == "completed"
    assert db.session.scalars(select(Note.body)).all() == ["after the hook"]


def test_a_form_body_and_a_get_without_one(app, account, receiver):
    steps = {
        "f": webhook(receiver.base + "/form", "g", body_type="form",
                     form=[{"name": "email", "value": "{{ contact.email }}"}, {"name": "plan", "value": "a b"}]),
        "g": webhook(receiver.base + "/get", None, method="GET", body='{"ignored": true}'),
    }
    run_flow(app, account, steps, email="ada@example.com")
    form, get = receiver.received
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(form.body.decode()) == {"email": ["ada@example.com"], "plan": ["a b"]}
    assert get.method == "GET" and get.body == b""
    assert verify(outbound.signing_secret(account.id), get)  # signed over "<timestamp>." alone
    assert the_run().status == "completed"


def test_an_empty_json_body_sends_the_contacts_fields(app, account, receiver):
    contact = run_flow(app, account, {"w": webhook(receiver.base + "/lead")}, first_name="Grace",
                       custom_fields={"plan": "gold"})
    sent = json.loads(receiver.received[0].body)
    assert sent["id"] == contact.id and sent["first_name"] == "Grace" and sent["custom"] == {"plan": "gold"}
    assert sent["step_id"] == "w"


# --- retries and failures ---------------------------------------------------------------

def test_503_is_retried_with_the_same_idempotency_key_until_it_succeeds(app, account, receiver):
    receiver.answer(503, "busy")
    receiver.answer(429, "slow down", headers={"Retry-After": "0"})
    receiver.answer(201, {"ok": 1})
    run_flow(app, account, {"w": webhook(receiver.base + "/retry", retries=3)})

    assert len(receiver.received) == 3
    keys = {r.headers["Idempotency-Key"] for r in receiver.received}
    assert len(keys) == 1
    secret = outbound.signing_secret(account.id)
    assert all(verify(secret, r) for r in receiver.received)
    done = logs("w")[-1]
    assert done.outcome == "ok" and done.output["status"] == 201 and done.output["attempts"] == 3
    assert the_run().status == "completed"


def test_a_400_fails_the_step_for_good_with_the_reason(app, account, receiver):
    receiver.answer(400, {"error": "bad email"})
    run_flow(app, account, {"w": webhook(receiver.base + "/bad", "n", retries=3),
                            "n": {"type": "add_note", "config": {"body": "never"}, "next": None}})
    assert len(receiver.received) == 1  # not retried
    run = the_run()
    assert run.status == "failed"
    assert 'HTTP 400: {"error": "bad email"}' in run.error
    failed = logs("w")[-1]
    assert failed.outcome == "failed" and failed.output["status"] == 400
    assert failed.output["body"] == {"error": "bad email"}
    assert db.session.scalars(select(Note)).all() == []


def test_5xx_until_the_attempts_run_out_fails_the_step(app, account, receiver):
    for _ in range(3):
        receiver.answer(500, "<html>oops</html>")
    run_flow(app, account, {"w": webhook(receiver.base + "/down", retries=2)})
    assert len(receiver.received) == 3
    run = the_run()
    assert run.status == "failed" and "HTTP 500: <html>oops</html> (after 3 attempts)" in run.error


def test_a_receiver_slower_than_the_timeout_fails_the_step(app, account, receiver):
    receiver.answer(200, {"late": True}, delay=2.5)
    run_flow(app, account, {"w": webhook(receiver.base + "/slow", timeout_seconds=1, retries=0)})
    assert len(receiver.received) == 1
    run = the_run()
    assert run.status == "failed" and "no answer within 1 seconds" in run.error


def test_redirects_are_not_followed(app, account, receiver):
    receiver.answer(302, "", headers={"Location": receiver.base + "/elsewhere"})
    run_flow(app, account, {"w": webhook(receiver.base + "/moved")})
    assert [r.path for r in receiver.received] == ["/moved"]
    assert "HTTP 302: redirects are not followed" in the_run().error


def test_a_large_response_is_cut_and_flagged(app, account, receiver):
    receiver.answer(200, "x" * 70_000, headers={"Content-Type": "text/plain"})
    run_flow(app, account, {"w": webhook(receiver.base + "/big")})
    done = logs("w")[-1]
    assert done.outcome == "ok" and done.output["truncated"] is True and len(done.output["body"]) == 64 * 1024


# --- the address guard ---------------------------------------------------------------------

def test_a_loopback_destination_is_refused_without_the_allow_list(app, account, receiver):
    app.config["ALLOWED_WEBHOOK_HOSTS"] = ""
    run_flow(app, account, {"w": webhook(receiver.base + "/internal")})
    assert receiver.received == []
    run = the_run()
    assert run.status == "failed" and "refused" in run.error and "loopback" in run.error


def test_the_allow_list_names_a_port_too(app, account, receiver):
    app.config["ALLOWED_WEBHOOK_HOSTS"] = "127.0.0.1:1, example.com"
    run_flow(app, account, {"w": webhook(receiver.base + "/other-port")})
    assert receiver.received == [] and "loopback" in the_run().error


def test_a_name_that_resolves_to_loopback_is_refused(app, account, receiver):
    app.config["ALLOWED_WEBHOOK_HOSTS"] = ""
    port = receiver.server.server_address[1]
    run_flow(app, account, {"w": webhook(f"http://localhost:{port}/by-name")})
    assert receiver.received == [] and "localhost resolves to" in the_run().error


@pytest.mark.parametrize("address, refused", [
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("169.254.169.254", "link-local"),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("100.64.0.1", "not a public address"), ("fc00::1", "private"),
    ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_which_addresses_are_internal(address, refused):
    problem = outbound.address_problem(address)
    assert (problem is None) if refused is None else (refused in problem)


# --- Slack -----------------------------------------------------------------------------------

def test_a_slack_message_is_posted_to_the_accounts_url(app, account, receiver):
    outbound.set_slack_url(account.id, receiver.base + "/services/T0/B0/secret", None)
    db.session.commit()
    steps = {"s": {"type": "send_slack_message", "config": {"text": "New lead: {{ contact.first_name }} 🎉"},
                   "next": None}}
    run_flow(app, account, steps, first_name="Ada")
    [got] = receiver.received
    assert got.method == "POST" and got.path == "/services/T0/B0/secret"
    assert json.loads(got.body) == {"text": "New lead: Ada 🎉"}
    assert verify(outbound.signing_secret(account.id), got)
    parked, done = logs("s")
    assert "url" not in parked.output and parked.output["text"] == "New lead: Ada 🎉"
    assert "secret" not in json.dumps(parked.output)
    assert done.outcome == "ok" and the_run().status == "completed"
    assert db.session.scalar(select(OutboundRequest.url)) is None  # the URL is read from the settings when sent


def test_without_a_slack_url_the_step_is_skipped_with_the_reason(app, account, receiver):
    run_flow(app, account, {"s": {"type": "send_slack_message", "config": {"text": "hi"}, "next": None}})
    [row] = logs("s")
    assert row.outcome == "skipped" and "no Slack incoming-webhook URL" in row.output["reason"]
    assert receiver.received == [] and the_run().status == "completed"


# --- nothing lost, nothing sent for a run that moved on ---------------------------------------

def test_a_send_cut_short_is_sent_again_with_the_same_key(app, account, receiver):
    app.config["WEBHOOK_RETRY_DELAYS"] = [3600]  # the retry waits in the scheduler: no job sends it now
    receiver.answer(503, "busy")
    run_flow(app, account, {"w": webhook(receiver.base + "/crash", retries=3)})
    request_id = db.session.scalar(select(OutboundRequest.id))
    assert len(receiver.received) == 1 and the_run().status == "parked"

    # A worker takes the retry and gets the request out, then dies before it records the answer.
    db.session.execute(update(OutboundRequest).values(retry_at=None))
    db.session.commit()
    claimed = outbound_http._claim(request_id)
    outbound_http._call(claimed)
    assert len(receiver.received) == 2
    row = db.session.get(OutboundRequest, request_id)
    assert row.status == "sending" and row.attempts == 2

    assert recovery.reconcile()["outbound_interrupted"] == 0  # still inside its time
    db.session.execute(update(OutboundRequest).values(claimed_at=row.claimed_at - timedelta(hours=1)))
    db.session.commit()
    counts = recovery.reconcile()
    assert counts["outbound_interrupted"] == 1 and counts["outbound_requests"] == 1
    run_jobs(app)

    assert len(receiver.received) == 3
    assert len({r.headers["Idempotency-Key"] for r in receiver.received}) == 1
    assert the_run().status == "completed"
    assert logs("w")[-1].output["attempts"] == 3


def test_a_lost_resume_is_found_by_the_reconciler(app, account, receiver):
    run_flow(app, account, {"w": webhook(receiver.base + "/ok")})
    # As if the resume job had been lost: the request is done, the run still parked on it.
    run = the_run()
    run.status, run.current_step, run.finished_at = "parked", "w", None
    db.session.commit()
    assert recovery.reconcile()["outbound_resumes"] == 1
    run_jobs(app)
    assert the_run().status == "completed" and len(receiver.received) == 1


def test_a_request_whose_run_was_cancelled_is_not_sent(app, account, receiver):
    app.config["WEBHOOK_RETRY_DELAYS"] = [3600]
    receiver.answer(503, "busy")
    run_flow(app, account, {"w": webhook(receiver.base + "/late")})
    run = the_run()
    run.status, run.finished_at = "cancelled", run.updated_at
    db.session.execute(update(OutboundRequest).values(retry_at=None))
    db.session.commit()
    outbound_http.send([db.session.scalar(select(OutboundRequest.id))])
    row = db.session.scalars(select(OutboundRequest)).one()
    assert row.status == "cancelled" and "moved on" in row.error
    assert len(receiver.received) == 1
