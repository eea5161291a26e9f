"""`notification.created` over Socket.IO: each recipient hears of theirs in their own room, nobody else does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.extensions import db
from builder.live import notification_events
from builder.models import Notification
from jobqueue import enroll
from tests.factories import ApiClient, connect, drain, make_contact, make_outsider, make_workflow, run_jobs
from tests.factories import events_by_name as by_name

EVENT = "notification.created"


def notify_graph(config: dict) -> dict:
    return {"name": "Notify", "start": "n", "steps": {"n": {"type": "internal_notification", "config": {
        "title": "Call {{ contact.first_name }}", "body": "<b>now</b>", **config}}}}


@pytest.fixture
def listeners(app, users):
    clients = {role: connect(app, users[role]) for role in ("admin", "manager", "agent", "agent2")}
    clients["outsider"] = connect(app, make_outsider("admin"))
    drain(*clients.values())
    return clients


def test_the_recipient_hears_of_their_notification_and_nobody_else_does(app, account, users, listeners, client):
    contact = make_contact(account, first_name="Ada", assigned_user_id=users["agent"].id)
    wf = make_workflow(account, notify_graph({"recipients": "assigned_user"}))
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)

    events = {name: by_name(c).get(EVENT, []) for name, c in listeners.items()}
    [payload] = events["agent"]
    row = db.session.scalars(select(Notification)).one()
    assert payload["unread"] == 1
    assert payload["notification"]["id"] == row.id and payload["notification"]["title"] == "Call Ada"
    assert payload["notification"]["body"] == "<b>now</b>"  # as written: the page shows it as text
    # The same shape and values as the REST API's row.
    listed = ApiClient(client, users["agent"]).get("/api/notifications").json["items"]
    assert payload["notification"] == listed[0]
    assert all(events[name] == [] for name in ("admin", "manager", "agent2", "outsider"))


def test_several_recipients_each_hear_only_their_own_with_their_own_count(app, account, users, listeners):
    wf = make_workflow(account, notify_graph({"recipients": "role", "role": "agent"}))
    earlier = make_workflow(account, notify_graph({"recipients": "users", "user_ids": [users["agent2"].id]}))
    enroll.create_request(earlier, earlier.published_version, [make_contact(account).id], is_test=False)
    run_jobs(app)
    drain(*listeners.values())

    enroll.create_request(wf, wf.published_version, [make_contact(account, first_name="Bo").id], is_test=False)
    run_jobs(app)

    events = {name: by_name(c).get(EVENT, []) for name, c in listeners.items()}
    mine = {name: [p["notification"]["id"] for p in events[name]] for name in ("agent", "agent2")}
    rows = {n.user_id: n.id for n in db.session.scalars(select(Notification).where(Notification.title == "Call Bo"))}
    assert mine == {"agent": [rows[users["agent"].id]], "agent2": [rows[users["agent2"].id]]}
    assert (events["agent"][0]["unread"], events["agent2"][0]["unread"]) == (1, 2)
    assert all(events[name] == [] for name in ("admin", "manager", "outsider"))


def test_a_user_deactivated_before_it_is_published_hears_nothing(app, account, users, listeners):
    wf = make_workflow(account, notify_graph({"recipients": "users", "user_ids": [users["agent"].id]}))
    enroll.create_request(wf, wf.published_version, [make_contact(account).id], is_test=False)
    run_jobs(app)
    row = db.session.scalars(select(Notification)).one()
    drain(*listeners.values())
    users["agent"].active = False
    db.session.commit()
    notification_events.publish_created([row.id])
    assert all(by_name(c).get(EVENT) is None for c in listeners.values())
