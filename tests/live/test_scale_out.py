"""Scale-out, as the README recommends for production: two gunicorn (gthread) web processes and
two `flask --app app worker` processes on one PostgreSQL and one Redis.

Enrollment goes in through one web process; agents connected to the OTHER web process see their
manual actions arrive live, and Let's Start, hit concurrently on both processes, never hands two
people the same action.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from socketio import Client

from builder.domain.users import create_user
from builder.extensions import db
from tests.factories import make_contact, make_workflow, token_for
from tests.workers import free_port, start_web, start_worker, stop, wait_for

pytestmark = pytest.mark.slow
N = 24  # contacts: each of the two agents gets 12 actions


@pytest.fixture
def database_url(pg_schema_url: str) -> str:
    """PostgreSQL only: the point is many processes claiming rows with FOR UPDATE SKIP LOCKED."""
    return pg_schema_url


@pytest.fixture
def processes(app) -> Iterator[dict[str, Any]]:
    procs: list = []
    try:
        web = []
        for _ in range(2):
            port = free_port()
            procs.append(start_web(app, port, WEB_CONCURRENCY="1", WEB_THREADS="20"))
            web.append(f"http://127.0.0.1:{port}")
        workers = [start_worker(app), start_worker(app)]
        procs += workers
        yield {"web": web, "workers": workers}
    finally:
        for proc in procs:
            stop(proc)


class Agent:
    """A Socket.IO client on one web process, logged in with an API token, websocket only."""

    def __init__(self, url: str, token: str):
        self.created: list[dict[str, Any]] = []
        self.client = Client(reconnection=False)
        self.client.on("manual_action.created", self.created.append)
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def close(self) -> None:
        self.client.disconnect()


def test_two_web_and_two_worker_processes(app, account, users, processes):
    web_a, web_b = processes["web"]
    agent, agent2 = users["agent"], users["agent2"]
    graph = {
        "name": "Assign then text",
        "start": "assign",
        "steps": {
            "assign": {"type": "assign_user", "config": {"user_ids": [agent.id, agent2.id]}, "next": "sms"},
            "sms": {"type": "manual_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None},
        },
    }
    wf = make_workflow(account, graph)
    contact_ids = [make_contact(account, first_name=f"S{i}").id for i in range(N)]
    claimers = [users["admin"], users["manager"], agent, agent2] + [
        create_user(f"m{i}@acme.test", "manager", "correct-horse", f"M{i}", account) for i in range(4)]
    tokens = {user.id: token_for(user) for user in claimers}
    agent_id, agent2_id, manager_token = agent.id, agent2.id, tokens[users["manager"].id]
    claimer_ids = [user.id for user in claimers]
    db.session.rollback()  # hold no transaction while the other processes work

    # Neither server names itself.
    for url in (web_a, web_b):
        server = requests.get(f"{url}/login", timeout=10).headers.get("Server", "")
        assert server == "flowdesk", server

    # Agents listen on web B; the enrollment goes in through web A.
    listeners = {agent_id: Agent(web_b, tokens[agent_id]), agent2_id: Agent(web_b, tokens[agent2_id])}
    try:
        res = requests.post(f"{web_a}/api/workflows/{wf.id}/enroll", json={"contact_ids": contact_ids},
                            headers={"Authorization": f"Bearer {manager_token}"}, timeout=30)
        assert res.status_code == 202, res.text
        assert wait_for(lambda: sum(len(ls.created) for ls in listeners.values()) >= N, timeout=90), (
            {k: len(v.created) for k, v in listeners.items()}, *(stop(w)[-2000:] for w in processes["workers"]))
    finally:
        for listener in listeners.values():
            listener.close()
    for user_id, listener in listeners.items():
        assert len(listener.created) == N // 2, (user_id, len(listener.created))  # round robin, evenly
        assert {row["assignee_id"] for row in listener.created} == {user_id}  # only their own
    created_ids = {row["id"] for ls in listeners.values() for row in ls.created}
    assert len(created_ids) == N

    # Let's Start: eight people at once, half on each web process, twice over. A person holds one claim
    # at a time, so in each round every claim must be a different action; the second round excludes
    # everything the first handed out, so all sixteen differ.
    handed_out: dict[int, list[int]] = {uid: [] for uid in claimer_ids}
    for _ in range(2):
        seen = sorted({i for ids in handed_out.values() for i in ids})
        barrier = threading.Barrier(len(claimer_ids))
        results: dict[int, requests.Response] = {}

        def start(index: int, user_id: int, exclude: list[int] = seen, barrier=barrier, results=results) -> None:
            url = (web_a, web_b)[index % 2]
            barrier.wait(timeout=30)
            results[user_id] = requests.post(
                f"{url}/api/manual-actions/start", json={"exclude_ids": exclude},
                headers={"Authorization": f"Bearer {tokens[user_id]}"}, timeout=30)

        threads = [threading.Thread(target=start, args=(i, uid)) for i, uid in enumerate(claimer_ids)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for user_id, res in results.items():
            assert res.status_code == 200, (user_id, res.status_code, res.text)
            body = res.json()
            assert body["claimed_by_id"] == user_id and body["id"] in created_ids
            if user_id in (agent_id, agent2_id):
                assert body["assignee_id"] == user_id  # agents only ever get their own
            handed_out[user_id].append(body["id"])
        assert len(results) == len(claimer_ids)
    every = [i for ids in handed_out.values() for i in ids]
    assert len(every) == 2 * len(claimer_ids) and len(set(every)) == len(every), handed_out
