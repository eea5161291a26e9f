"""A local fake of Twilio's REST API, and Twilio's side of the webhooks, for tests.

The server (a threaded http.server on a free port) implements
POST /2010-04-01/Accounts/{sid}/Messages.json and /Calls.json: it checks HTTP
Basic auth (401 with Twilio's error body when wrong) and the parameters our
provider must send (To, Body, From or MessagingServiceSid, StatusCallback;
for calls To, From, Url or Twiml, StatusCallback, and MachineDetection if given), records every request, answers with
Twilio-shaped JSON, and can be told to fail the next requests (429, 500, 400)
or to hold one until the test lets it go.

It also plays Twilio calling us: status callbacks, inbound SMS and the call
bridge fetch are signed with RequestValidator.compute_signature over the exact
URL and form parameters, as Twilio does. They go over HTTP by default, or
through a Flask test client (`FakeTwilio.use_client`).

Point the SDK at it with TWILIO_API_URL = fake.url.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "9f2c1e0b7a6d5c4b3a29180716f5e4d3"
FROM_NUMBER = "+12025550123"
PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<kind>Messages|Calls)\.json$")
# GET of one call (the SDK's calls(sid).fetch()): its current status, as the test set it.
ONE_CALL = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Calls/(?P<call>CA[0-9a-f]+)\.json$")
MACHINE_DETECTION = ("Enable", "DetectMessageEnd")
DEFAULT_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass
class Recorded:
    """One request the fake received, and how it answered."""

    method: str
    path: str
    params: dict[str, list[str]]
    status: int
    authorized: bool

    def value(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Resource:
    """A message or call the fake accepted."""

    sid: str
    kind: str  # "Messages" or "Calls"
    account_sid: str
    params: dict[str, list[str]]

    def value(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: int | None = None, message: str | None = None) -> tuple[int, dict[str, Any]]:
    code = code or DEFAULT_CODES.get(status, status)
    return status, {"code": code, "message": message or f"Error {code}",
                    "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class FakeTwilio:
    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.requests: list[Recorded] = []
        self.resources: dict[str, Resource] = {}
        self.call_states: dict[str, dict[str, Any]] = {}  # what GET .../Calls/{sid}.json answers
        self._failures: deque[tuple[int, int | None, str | None]] = deque()
        self._hold: threading.Event | None = None
        self.held = threading.Event()  # set when a held request has arrived
        self._lock = threading.Lock()
        self.transport: Callable[[str, dict[str, Any], dict[str, str]], Reply] = _post_over_http
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-twilio", daemon=True)

    # --- control ---------------------------------------------------------------

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._hold is not None:
            self._hold.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def add_account(self, sid: str = ACCOUNT_SID, token: str = AUTH_TOKEN) -> None:
        self.accounts[sid] = token

    def fail_next(self, count: int, status: int, code: int | None = None, message: str | None = None) -> None:
        """The next `count` API requests get this error instead of being served."""
        with self._lock:
            self._failures.extend([(status, code, message)] * count)

    def hold_next(self) -> threading.Event:
        """Keep the next API request waiting (after it is recorded and created) until the
        returned event is set: a send that Twilio took but whose reply never arrived."""
        self._hold = threading.Event()
        self.held.clear()
        return self._hold

    def use_client(self, client) -> None:
        """Deliver callbacks through a Flask test client instead of HTTP (same URL, same signature)."""
        def post(url: str, params: dict[str, Any], headers: dict[str, str]) -> Reply:
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            response = client.post(target, data=params, headers=headers)
            return Reply(response.status_code, response.get_data(as_text=True), dict(response.headers))

        self.transport = post

    # --- what it saw -----------------------------------------------------------

    def created(self, kind: str = "Messages") -> list[Resource]:
        with self._lock:
            return [r for r in self.resources.values() if r.kind == kind]

    def api_requests(self, kind: str = "Messages") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(f"/{kind}.json")]

    # --- the REST API ----------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        params = parse_qs(raw.decode(), keep_blank_values=True)
        one = ONE_CALL.match(urlsplit(path).path)
        if method == "GET" and one:
            return self._fetch_call(one, headers, path)
        match = PATH.match(urlsplit(path).path)
        authorized = bool(match) and self._authorized(match["sid"], headers.get("Authorization", ""))
        status, body = self._answer(method, match, authorized, params)
        with self._lock:
            self.requests.append(Recorded(method, path, params, status, authorized))
        hold = self._hold
        if hold is not None and status == 201:
            self._hold = None
            self.held.set()
            hold.wait(timeout=60)
        return status, body

    def _authorized(self, sid: str, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == sid and sid in self.accounts and self.accounts[sid] == password

    def _answer(self, method: str, match: re.Match | None, authorized: bool,
                params: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if method != "POST" or match is None:
            return _error(404, message="The requested resource was not found")
        if not authorized:
            return _error(401, message="Authenticate")
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return _error(*failure)
        problem = (self._check_message if match["kind"] == "Messages" else self._check_call)(params)
        if problem is not None:
            return _error(400, *problem)
        return 201, self._create(match["sid"], match["kind"], params)

    @staticmethod
    def _check_message(params: dict[str, list[str]]) -> tuple[int, str] | None:
        if not params.get("To"):
            return 21604, "A 'To' phone number is required."
        if not params.get("Body"):
            return 21602, "Message body is required."
        if not params.get("From") and not params.get("MessagingServiceSid"):
            return 21603, "A 'From' phone number is required."
        if not params.get("StatusCallback"):
            return 21609, "Invalid StatusCallback url (flowdesk always sends one)"
        return None

    @staticmethod
    def _check_call(params: dict[str, list[str]]) -> tuple[int, str] | None:
        for name, code in (("To", 21201), ("From", 21213), ("StatusCallback", 21609)):
            if not params.get(name):
                return code, f"Missing required parameter {name}"
        if not params.get("Url") and not params.get("Twiml"):
            return 21205, "Either Url or Twiml is required"
        detection = params.get("MachineDetection")
        if detection and detection[0] not in MACHINE_DETECTION:
            return 21626, f"MachineDetection must be one of {', '.join(MACHINE_DETECTION)}"
        return None

    def _fetch_call(self, match: re.Match, headers: Any, path: str) -> tuple[int, dict[str, Any]]:
        authorized = self._authorized(match["sid"], headers.get("Authorization", ""))
        with self._lock:
            resource = self.resources.get(match["call"])
            state = dict(self.call_states.get(match["call"], {}))
        if not authorized:
            status, body = _error(401, message="Authenticate")
        elif resource is None:
            status, body = _error(404, message="The requested resource was not found")
        else:
            status, body = 200, {"sid": resource.sid, "account_sid": resource.account_sid, "to": resource.value("To"),
                                 "from": resource.value("From"), "status": state.get("status", "queued"),
                                 "answered_by": state.get("answered_by"), "duration": state.get("duration"),
                                 "direction": "outbound-api"}
        with self._lock:
            self.requests.append(Recorded("GET", path, {}, status, authorized))
        return status, body

    def set_call_state(self, sid: str, status: str, *, answered_by: str | None = None,
                       duration: int | None = None) -> None:
        """What fetching this call answers from now on (its status callbacks are the test's to send)."""
        with self._lock:
            self.call_states[sid] = {"status": status, "answered_by": answered_by,
                                     "duration": str(duration) if duration is not None else None}

    def _create(self, account_sid: str, kind: str, params: dict[str, list[str]]) -> dict[str, Any]:
        prefix = "SM" if kind == "Messages" else "CA"
        resource = Resource(_sid(prefix), kind, account_sid, params)
        with self._lock:
            self.resources[resource.sid] = resource
        now = formatdate(usegmt=True)
        first = resource.value
        base = {"sid": resource.sid, "account_sid": account_sid, "to": first("To"), "from": first("From"),
                "date_created": now, "date_updated": now, "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account_sid}/{kind}/{resource.sid}.json"}
        if kind == "Messages":
            service = first("MessagingServiceSid")
            return {**base, "body": first("Body"), "messaging_service_sid": service,
                    "status": "accepted" if service and not first("From") else "queued",
                    "num_segments": "1", "num_media": "0", "direction": "outbound-api", "price": None,
                    "error_code": None, "error_message": None, "date_sent": None}
        return {**base, "status": "queued", "direction": "outbound-api", "parent_call_sid": None,
                "duration": None, "start_time": None, "end_time": None}

    # --- Twilio calling us -----------------------------------------------------

    def post(self, url: str, params: dict[str, Any], *, token: str | None = None,
             signature: str | None = None) -> Reply:
        """POST a form to our webhook, signed as Twilio signs it (or with the given signature)."""
        token = token or self.accounts.get(params.get("AccountSid", ""), AUTH_TOKEN)
        headers = {}
        signature = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        return self.transport(url, params, headers)

    def message_status(self, sid: str, status: str, *, error_code: str | None = None, **extra: Any) -> Reply:
        message = self.resources[sid]
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": message.account_sid, "MessageStatus": status,
                  "SmsStatus": status, "To": message.value("To"), "ApiVersion": "2010-04-01"}
        if message.value("From"):
            params["From"] = message.value("From")
        if message.value("MessagingServiceSid"):
            params["MessagingServiceSid"] = message.value("MessagingServiceSid")
        if error_code:
            params["ErrorCode"] = error_code
        return self.post(message.value("StatusCallback"), params, **extra)

    def call_status(self, sid: str, status: str, *, duration: int | None = None, answered_by: str | None = None,
                    **extra: Any) -> Reply:
        call = self.resources[sid]
        params = {"CallSid": sid, "AccountSid": call.account_sid, "CallStatus": status, "To": call.value("To"),
                  "From": call.value("From"), "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        if duration is not None:
            params["CallDuration"] = str(duration)
        if answered_by is not None and call.value("MachineDetection"):
            params["AnsweredBy"] = answered_by
        return self.post(call.value("StatusCallback"), params, **extra)

    def fetch_bridge(self, sid: str, **extra: Any) -> Reply:
        """What Twilio does once the agent answers: ask the call's Url for TwiML."""
        call = self.resources[sid]
        params = {"CallSid": sid, "AccountSid": call.account_sid, "CallStatus": "in-progress",
                  "To": call.value("To"), "From": call.value("From"), "Direction": "outbound-api",
                  "ApiVersion": "2010-04-01"}
        return self.post(call.value("Url"), params, **extra)

    def answer(self, sid: str, *, answered_by: str = "human", **extra: Any) -> Reply:
        """The contact picked up a call placed with machine detection: Twilio asks its Url for TwiML,
        saying who answered (human, machine_start, fax, unknown)."""
        call = self.resources[sid]
        params = {"CallSid": sid, "AccountSid": call.account_sid, "CallStatus": "in-progress",
                  "To": call.value("To"), "From": call.value("From"), "Direction": "outbound-api",
                  "ApiVersion": "2010-04-01"}
        if call.value("MachineDetection"):
            params["AnsweredBy"] = answered_by
        return self.post(call.value("Url"), params, **extra)

    def fetch_url(self, url: str, sid: str, **extra: Any) -> Reply:
        """Twilio fetching another TwiML URL during the call (a <Number url=...> whisper)."""
        call = self.resources[sid]
        params = {"CallSid": _sid("CA"), "ParentCallSid": sid, "AccountSid": call.account_sid,
                  "CallStatus": "in-progress", "Direction": "outbound-dial", "ApiVersion": "2010-04-01"}
        return self.post(url, params, **extra)

    def inbound_sms(self, url: str, *, from_: str, to: str = FROM_NUMBER, body: str,
                    account_sid: str = ACCOUNT_SID, message_sid: str | None = None, **extra: Any) -> Reply:
        sid = message_sid or _sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": account_sid,
                  "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "ApiVersion": "2010-04-01"}
        return self.post(url, params, **extra)


def _post_over_http(url: str, params: dict[str, Any], headers: dict[str, str]) -> Reply:
    response = requests.post(url, data=params, headers=headers, timeout=30)
    return Reply(response.status_code, response.text, dict(response.headers))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        # The client may hang up, as the SDK does when a held request times out: nobody to answer then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.server.fake.handle(self.command, self.path, self.headers, raw)  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


PUBLIC_URL = "https://flowdesk.example"


def connect_account(app, fake: FakeTwilio, account_id: int, *, token: str = AUTH_TOKEN,
                    from_number: str | None = FROM_NUMBER, messaging_service_sid: str | None = None,
                    retry_delays: tuple[int, ...] = (0, 0, 0)) -> None:
    """Give the account Twilio settings and point the app's Twilio traffic at the fake."""
    from builder.extensions import db
    from builder.integrations import twilio_settings

    app.config.update(TWILIO_API_URL=fake.url, PUBLIC_URL=PUBLIC_URL, TWILIO_RETRY_DELAYS=list(retry_delays),
                      TWILIO_TIMEOUT_SECONDS=10)
    twilio_settings.save(account_id, account_sid=ACCOUNT_SID, auth_token=token, from_number=from_number,
                         messaging_service_sid=messaging_service_sid, user_id=None)
    db.session.commit()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    fake.add_account()
    yield fake
    fake.stop()
