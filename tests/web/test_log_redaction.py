"""Secrets never reach the logs: the inbound-webhook URL's secret, API tokens, Authorization values."""

from __future__ import annotations

import http.client
import json
import logging
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger
from sqlalchemy import update
from werkzeug.serving import make_server

from builder.extensions import db
from builder.http.log_redaction import redact
from builder.models import WorkflowVersion
from builder.web.workflow_hooks import hook_secret
from tests.factories import make_workflow

WEBHOOK = {
    "name": "Hook", "start": "s1",
    "trigger": {"type": "inbound_webhook", "config": {"field_map": {"mail": "email"}}},
    "steps": {"s1": {"type": "add_tag", "config": {"tag": "hooked"}, "next": None}},
}


def test_a_failing_hook_request_logs_its_path_without_the_secret(app, account, client, caplog):
    workflow = make_workflow(account, WEBHOOK)
    secret = hook_secret(workflow.id)
    # A stored graph the code does not expect (field_map is no longer an object): the request fails.
    graph = {**WEBHOOK, "trigger": {"type": "inbound_webhook", "config": {"field_map": ["mail"]}}}
    db.session.execute(update(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow.id).values(graph=graph))
    db.session.commit()
    with caplog.at_level(logging.ERROR):
        res = client.post(f"/hooks/workflows/{workflow.id}/{secret}", json={"mail": "a@example.com"})
    assert res.status_code == 500 and res.is_json
    assert f"unhandled error on POST /hooks/workflows/{workflow.id}/<redacted>" in caplog.text
    assert "Traceback" in caplog.text  # the traceback is still there, redacted too
    assert secret not in caplog.text


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def test_the_werkzeug_access_log_line_has_no_secret(app, account, server, caplog):
    workflow_id = make_workflow(account, WEBHOOK).id
    secret = hook_secret(workflow_id)
    db.session.rollback()  # the server's thread writes: hold no SQLite lock here
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        conn = http.client.HTTPConnection(server, timeout=30)
        conn.request("POST", f"/hooks/workflows/{workflow_id}/{secret}?token=abc123",
                     body=json.dumps({"mail": "a@example.com"}), headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 202
        conn.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"POST /hooks/workflows/{workflow_id}/<redacted>?token=<redacted> HTTP/1.1" in line
               for line in lines), lines
    assert secret not in caplog.text and "abc123" not in caplog.text


def test_the_gunicorn_access_log_line_has_no_secret(app, caplog):
    config = Config()
    config.set("accesslog", "-")
    glog = GunicornLogger(config)
    glog.access_log.addHandler(caplog.handler)  # gunicorn's access logger does not propagate
    try:
        secret = "f" * 32
        environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/hooks/workflows/7/{secret}", "SERVER_PROTOCOL": "HTTP/1.1",
                   "PATH_INFO": f"/hooks/workflows/7/{secret}", "QUERY_STRING": "", "REMOTE_ADDR": "10.0.0.1"}
        response = SimpleNamespace(status="202 ACCEPTED", status_code=202, headers=[], sent=42, response_length=42)
        glog.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=5))
    finally:
        glog.access_log.removeHandler(caplog.handler)
    assert '"POST /hooks/workflows/7/<redacted> HTTP/1.1" 202' in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /api/contacts?token=s3cret&page=2", "GET /api/contacts?token=<redacted>&page=2"),
    ("GET /x?a=1&api_token=s3cret", "GET /x?a=1&api_token=<redacted>"),
    ("headers: {'Authorization': 'Bearer abc.def'}", "headers: {'Authorization': '<redacted>'}"),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: <redacted>"),
    ("sent Bearer abc.def-ghi", "sent Bearer <redacted>"),
    ("POST /hooks/workflows/12/0123abcd HTTP/1.1", "POST /hooks/workflows/12/<redacted> HTTP/1.1"),
    ("GET /api/workflows/12/versions", "GET /api/workflows/12/versions"),
])
def test_redact(line, expected):
    assert redact(line) == expected


def test_our_own_loggers_are_redacted_too(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("builder.api").warning("request with %s", "Authorization: Bearer topsecret")
    assert "topsecret" not in caplog.text and "Authorization: <redacted>" in caplog.text
