"""Browser tests: the real app served on a free port in a thread, driven by Debian's Chromium.

The app runs against a SQLite file and the test Redis, with the Socket.IO message
queue on, so events emitted by RQ jobs (run in-process by run_jobs) and by the
web requests reach the browsers exactly as in production. CSRF is on: the pages
must send the token like real browsers do.

Import the fixtures into a test module: `from tests.browser_support import *  # noqa: F403`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect
from redis import Redis
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from builder.domain.users import create_user
from builder.extensions import db
from builder.models import Account, User
from tests.factories import RUN_ID, app_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct-horse"

# Assertions still pass the moment the page is right; the longer ceiling only spares a busy machine's slow frames.
expect.set_options(timeout=10_000)

__all__ = ["PASSWORD", "LiveServer", "browser_type_launch_args", "live_server", "login", "team", "wait_watching"]


def chromium_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return (f"browser tests need Chromium at {CHROMIUM}: run `make test` as root, "
                "or `apt-get update && apt-get install -y chromium`")
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches this instead of a downloaded browser (never `playwright install`)."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    app: Any
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(app) -> LiveServer:
    # Flask-SocketIO (threading mode) wraps app.wsgi_app; Werkzeug's threaded server
    # hands simple-websocket the raw socket, so browsers get real WebSockets.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flowdesk-live-server", daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"http://127.0.0.1:{server.port}", server=server, thread=thread)


@contextmanager
def serving(app) -> Iterator[LiveServer]:
    """The app's tables created and the app served, inside its app context; stopped and released after."""
    with app.app_context():
        db.create_all()
        live = start_server(app)
        try:
            yield live
        finally:
            live.stop()
            db.session.remove()
            db.engine.dispose()


def browser_app_config(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        **app_config(database_url, redis_url),
        "SOCKETIO_MESSAGE_QUEUE": redis_url,  # worker-side emits reach this server through Redis
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture
def live_server(tmp_path, redis_url) -> Iterator[LiveServer]:
    """The app on a free port, its database and app context ready for the test thread to fill.

    The test thread shares the SQLite file with the server's threads: end every
    transaction (db.session.commit() or .remove()) before driving the browser,
    or requests wait on the write lock.
    """
    app = create_app(browser_app_config(f"sqlite:///{tmp_path / 'browser.sqlite3'}", redis_url))
    from jobqueue import runner

    runner._graphs.clear()
    with serving(app) as live:
        yield live
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    redis.set("flowdesk:test-run", RUN_ID, ex=6 * 3600)


@pytest.fixture
def team(live_server) -> dict[str, SimpleNamespace]:
    """An account and its people, as plain values: ORM rows would hold the test thread's session open."""
    # Quiet hours off: with them on, sends would depend on the hour the tests run. Their tests turn them on.
    account = Account(name="Acme", quiet_hours_enabled=False)
    db.session.add(account)
    db.session.commit()
    users: dict[str, User] = {
        "admin": create_user("admin@acme.test", "admin", PASSWORD, "Avery Admin", account),
        "manager": create_user("manager@acme.test", "manager", PASSWORD, "Morgan Manager", account),
        "agent": create_user("agent@acme.test", "agent", PASSWORD, "Alex Agent", account),
        "agent2": create_user("agent2@acme.test", "agent", PASSWORD, "Sam Agent", account),
    }
    db.session.commit()
    team = {role: SimpleNamespace(id=u.id, email=u.email, name=u.name) for role, u in users.items()}
    team["account"] = SimpleNamespace(id=account.id)
    db.session.remove()
    return team


def wait_watching(page) -> None:
    """Until the page's contact room has let it in: its live conversation events start from here."""
    expect(page.locator("body[data-watching-contact]")).to_have_count(1)


def login(page, live: LiveServer, email: str, password: str = PASSWORD, then: str = "/") -> None:
    page.goto(f"{live.url}/login?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live.url}{then}")
