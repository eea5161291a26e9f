"""A real local HTTP server for the outbound webhook tests: it records every request and answers from a
script (then 200 JSON). `http_receiver(app)` starts one and lets the address guard reach it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from flask import Flask


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server that records every request and answers from a script (then 200 JSON)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    script: deque = field(default_factory=deque)  # (status, headers, body, delay seconds)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def answer(self, status: int, body: bytes | str | dict = b"", headers: dict | None = None, delay: float = 0):
        if isinstance(body, dict):
            body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
        self.script.append((status, headers or {}, body.encode() if isinstance(body, str) else body, delay))


def _handler(receiver_ref: list[Receiver]):
    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            receiver = receiver_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            receiver.received.append(Received(self.command, parts.path, parse_qs(parts.query),
                                              {k: v for k, v in self.headers.items()}, body))
            status, headers, payload, delay = (receiver.script.popleft() if receiver.script else
                                               (200, {"Content-Type": "application/json"}, b'{"ok": true}', 0))
            if delay:
                time.sleep(delay)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *args):  # quiet test output
            pass

    return Handler


@contextlib.contextmanager
def http_receiver(app: Flask) -> Iterator[Receiver]:
    ref: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    server.daemon_threads = True
    ref.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["ALLOWED_WEBHOOK_HOSTS"] = ref[0].host
    app.config["WEBHOOK_RETRY_DELAYS"] = [0]  # retries right away, taken by the same burst of jobs
    try:
        yield ref[0]
    finally:
        server.shutdown()
        server.server_close()
