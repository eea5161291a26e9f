"""Test data helpers: the app's test configuration, and plain functions that make rows and run jobs.

Fixtures live in conftest.py; test modules import these with `from tests.factories import ...`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from rq import Queue, SimpleWorker
from sqlalchemy import select

from builder.domain.workflows import create_workflow
from builder.extensions import db, socketio
from builder.models import Account, ApiToken, Contact, User, Workflow, utcnow

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:10]


def app_config(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "WTF_CSRF_ENABLED": False,
        # Flask-SocketIO's test client refuses a message queue.
        "SOCKETIO_MESSAGE_QUEUE": None,
        "ENROLL_CHUNK_SIZE": 50,
        "ENGINE_TXN_SIZE": 20,
        "RECOVERY_GRACE_SECONDS": 60,
    }


def token_for(user: User) -> str:
    token, secret = ApiToken.issue(user)
    db.session.add(token)
    db.session.commit()
    return secret


class ApiClient:
    """The Flask test client with a user's bearer token on every request."""

    def __init__(self, client, user: User):
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {token_for(user)}"}

    def __getattr__(self, method: str):
        def call(path: str, **kwargs):
            return getattr(self.client, method)(path, headers={**self.headers, **kwargs.pop("headers", {})},
                                                **kwargs)

        return call


def make_contact(account: Account, **fields: Any) -> Contact:
    fields.setdefault("first_name", "Ada")
    fields.setdefault("phone", "+14155551000")
    tags = fields.pop("tags", [])
    contact = Contact(account_id=account.id, **fields)
    db.session.add(contact)
    db.session.flush()
    from builder.models import ContactTag

    contact.tag_rows.extend(ContactTag(tag=t) for t in tags)
    db.session.commit()
    return contact


def make_workflow(account: Account, graph: dict, *, publish: bool = True, user: User | None = None) -> Workflow:
    workflow = create_workflow(account.id, graph, author_id=user.id if user else None, publish=publish)
    db.session.commit()
    return workflow


def run_jobs(app) -> int:
    """Run every queued job in this process (RQ's SimpleWorker, burst mode)."""
    from jobqueue.connection import get_redis
    from jobqueue.queues import worker_queues

    worker = SimpleWorker(worker_queues(), connection=get_redis())
    worker.work(burst=True, logging_level="WARNING")
    return worker.successful_job_count


def run_scheduled_jobs(app) -> int:
    """Move every scheduled job (due or not) onto the queue, as if its time had come."""
    from rq.registry import ScheduledJobRegistry

    from jobqueue.connection import get_redis

    queue = Queue(app.config["RQ_QUEUE"], connection=get_redis())
    registry = ScheduledJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))
    return len(ids)


def bulk_enroll_new_contacts(account: Account, workflow: Workflow, count: int) -> list[int]:
    """`count` new contacts (one phone number shared by all) sent into `workflow` by one enroll request,
    as the builder's bulk add does; returns their ids."""
    from jobqueue import enroll

    db.session.add_all(Contact(account_id=account.id, first_name=f"C{i}", phone="+14155551000")
                       for i in range(count))
    db.session.commit()
    ids = list(db.session.scalars(select(Contact.id).where(Contact.account_id == account.id)))
    db.session.rollback()
    enroll.create_request(workflow, workflow.published_version, ids, is_test=False)
    return ids


def make_outsider(role: str, email: str = "boss@other.test") -> User:
    """A user of another account ("Other Co"): what they may see is what must never leak."""
    from builder.domain.users import create_user

    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    return create_user(email, role, "correct-horse", "Boss", other)


def connect(app, user: User):
    """A Socket.IO test client signed in with `user`'s API token."""
    return socketio.test_client(app, auth={"token": token_for(user)})


def received(sio_client, name: str) -> list[Any]:
    return [event["args"][0] for event in sio_client.get_received() if event["name"] == name]


def drain(*clients) -> None:
    for sio_client in clients:
        sio_client.get_received()



def events_by_name(sio_client) -> dict[str, list[Any]]:
    """What a Socket.IO test client has received since last asked: event name -> payloads."""
    out: dict[str, list[Any]] = {}
    for event in sio_client.get_received():
        out.setdefault(event["name"], []).append(event["args"][0])
    return out


def insert_early_contacts(conn, account_id: int, ids: list[int]) -> None:
    """Contacts with only the columns the first migration made, for tests that fill a database at an older
    revision: the model's newer columns (and their defaults) do not exist there yet."""
    from sqlalchemy import text

    now = utcnow()
    conn.execute(text("INSERT INTO contacts (id, account_id, first_name, last_name, timezone, dnd_sms, dnd_call, "
                      "custom_fields, is_test, created_at, updated_at) VALUES "
                      "(:id, :account_id, '', '', 'UTC', false, false, '{}', false, :now, :now)"),
                 [{"id": cid, "account_id": account_id, "now": now} for cid in ids])
