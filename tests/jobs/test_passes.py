"""Batched passes: a burst of events becomes a few jobs, and none of the events is missed."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import ContactTag, Enrollment, InboundEvent, Message, Note
from builder.web.workflow_hooks import hook_secret
from jobqueue import job_names, passes, runner
from jobqueue.connection import get_redis
from jobqueue.queues import worker_queues
from jobqueue.worker import IN_PROCESS, build_worker
from tests.factories import make_contact, make_workflow, run_jobs
from tests.fake_twilio import PUBLIC_URL, connect_account

HOOK_FLOW = {
    "name": "Lead form", "trigger": {"type": "inbound_webhook", "config": {"field_map": {"phone": "phone"}}},
    "start": "tag", "steps": {
        "tag": {"type": "add_tag", "config": {"tag": "lead"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "from the form"}, "next": None},
    },
}
TAG_FLOW = {
    "name": "On vip", "trigger": {"type": "contact_tag_added", "config": {"tag": "vip"}},
    "start": "s", "steps": {"s": {"type": "add_tag", "config": {"tag": "welcomed"}, "next": None}},
}


def queued(app) -> list[str]:
    return [job.func_name for queue in worker_queues() for job in queue.get_jobs()]


def count(model, *where) -> int:
    value = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.rollback()
    return value


def test_a_burst_of_webhook_events_is_one_job_that_starts_every_run(app, account, client):
    workflow = make_workflow(account, HOOK_FLOW)
    url = f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}"
    for i in range(30):
        assert client.post(url, json={"phone": f"+1415555{i:04d}"}).status_code == 202
    assert queued(app) == [job_names.ADVANCE_READY]  # not 30 one-run jobs
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "completed") == 30
    assert count(ContactTag, ContactTag.tag == "lead") == 30 and count(Note) == 30


def test_tags_added_through_the_api_share_one_pass(app, account, as_user):
    make_workflow(account, TAG_FLOW)
    api = as_user("manager")
    ids = [make_contact(account, first_name=f"C{i}").id for i in range(12)]
    for contact_id in ids:
        assert api.patch(f"/api/contacts/{contact_id}", json={"tags": ["vip"]}).status_code == 200
    assert queued(app) == [job_names.ADVANCE_READY]
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "completed") == 12


def test_an_event_after_the_pass_has_read_gets_a_pass_of_its_own(app):
    assert passes.READY_RUNS.request() is True
    assert passes.READY_RUNS.request() is False  # queued and not yet begun: it will see this change too
    passes.READY_RUNS.begin()  # the pass is about to read the database
    assert passes.READY_RUNS.request() is True  # so a change committed now needs the next one
    assert queued(app) == [job_names.ADVANCE_READY, job_names.ADVANCE_READY]


def test_events_asking_while_the_pass_gathers_join_it(app):
    app.config["PASS_GATHER_MS"] = 300
    assert passes.READY_RUNS.request() is True
    asked: list[bool] = []

    def ask() -> None:  # an event committed while the queued pass waits for more to gather
        time.sleep(0.05)
        with app.app_context():
            asked.append(passes.READY_RUNS.request())

    event = threading.Thread(target=ask)
    event.start()
    passes.READY_RUNS.begin()
    event.join()
    assert asked == [False]  # no second job: the pass about to read takes it
    assert queued(app) == [job_names.ADVANCE_READY]
    assert passes.READY_RUNS.request() is True  # once it has begun reading, the next pass is asked for


def test_a_pass_takes_runs_in_batches_and_goes_on_past_the_first(app, account, client):
    app.config["ENGINE_TXN_SIZE"] = 4
    workflow = make_workflow(account, HOOK_FLOW)
    url = f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}"
    for i in range(10):
        client.post(url, json={"phone": f"+1415556{i:04d}"})
    from jobqueue import ready

    assert ready.run_pass() == 10
    assert count(Enrollment, Enrollment.status == "completed") == 10
    assert ready.run_pass() == 0


def test_a_lost_pass_leaves_the_runs_for_the_reconciler(app, account, client):
    workflow = make_workflow(account, HOOK_FLOW)
    client.post(f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}", json={"phone": "+14155550001"})
    get_redis().flushdb()  # Redis restarted empty: the queued pass and its key are gone
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    from jobqueue import recovery

    assert recovery.reconcile()["stale_active"] == 1
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "completed") == 1


@pytest.fixture
def twilio(app, client, account, fake_twilio):
    connect_account(app, fake_twilio, account.id)
    fake_twilio.use_client(client)
    return fake_twilio


def test_a_burst_of_inbound_sms_is_one_pass_in_the_order_received(app, account, twilio):
    contact = make_contact(account, first_name="Ada", phone="+14155551000")
    for i in range(8):
        assert twilio.inbound_sms(f"{PUBLIC_URL}/webhooks/twilio/sms", from_="+14155551000",
                                  body=f"message {i}").status == 200
    assert queued(app) == [job_names.PROCESS_INBOUND_PASS]
    run_jobs(app)
    bodies = list(db.session.scalars(select(Message.body).where(Message.contact_id == contact.id)
                                     .order_by(Message.id)))
    assert bodies == [f"message {i}" for i in range(8)]
    assert count(InboundEvent, InboundEvent.processed_at.is_(None)) == 0


def test_the_worker_runs_its_own_jobs_in_process(app, account, client):
    """A forked work-horse would fill the graph cache of the fork, not this process's."""
    assert job_names.ADVANCE_READY in IN_PROCESS and job_names.NOOP not in IN_PROCESS
    workflow = make_workflow(account, HOOK_FLOW)
    client.post(f"/hooks/workflows/{workflow.id}/{hook_secret(workflow.id)}", json={"phone": "+14155550002"})
    runner._graphs.clear()
    worker = build_worker(app)
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    assert queued(app) == []
    assert workflow.published_version_id in runner._graphs
    assert count(Enrollment, Enrollment.status == "completed") == 1


REPLY_FLOW = {
    "name": "Ask", "start": "w", "steps": {
        "w": {"type": "wait_for_reply", "config": {"timeout_amount": 2, "timeout_unit": "days",
                                                   "replied_next": "yes", "timeout_next": "no"}},
        "yes": {"type": "add_tag", "config": {"tag": "replied"}, "next": None},
        "no": {"type": "add_tag", "config": {"tag": "silent"}, "next": None},
    },
}


def test_replies_take_their_exit_with_the_message_and_one_pass_moves_the_runs_on(app, account, twilio):
    from jobqueue import enroll

    workflow = make_workflow(account, REPLY_FLOW)
    phones = [f"+1415557{i:04d}" for i in range(6)]
    contacts = [make_contact(account, first_name=f"R{i}", phone=phone) for i, phone in enumerate(phones)]
    enroll.create_request(workflow, workflow.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "waiting") == 6
    for phone in phones:
        twilio.inbound_sms(f"{PUBLIC_URL}/webhooks/twilio/sms", from_=phone, body="yes")
    assert queued(app) == [job_names.PROCESS_INBOUND_PASS]
    from jobqueue import inbound

    inbound.process_pending()
    # The wait step's exit committed with each reply; the next step waits for the one pass asked for.
    assert count(Enrollment, Enrollment.status == "active", Enrollment.current_step == "yes") == 6
    assert job_names.ADVANCE_READY in queued(app)
    assert job_names.RESUME_ENROLLMENT not in queued(app)
    run_jobs(app)
    assert count(Enrollment, Enrollment.status == "completed") == 6
    assert count(ContactTag, ContactTag.tag == "replied") == 6 and count(ContactTag, ContactTag.tag == "silent") == 0


def test_replies_recorded_together_fall_back_one_by_one_when_one_cannot_be(app, account, twilio):
    from jobqueue import inbound

    contact = make_contact(account, first_name="Ada", phone="+14155551000")
    sids = [f"SM{i:032d}" for i in range(5)]
    # The third was recorded already (say, by a job that then lost its worker before marking the event).
    db.session.add(Message(account_id=account.id, contact_id=contact.id, direction="inbound", channel="sms",
                           body="earlier", status="received", idempotency_key=f"inbound:{sids[2]}"))
    db.session.commit()
    for i, sid in enumerate(sids):
        twilio.inbound_sms(f"{PUBLIC_URL}/webhooks/twilio/sms", from_="+14155551000", body=f"m{i}", message_sid=sid)
    inbound.process_pending()
    bodies = list(db.session.scalars(select(Message.body).where(Message.contact_id == contact.id)
                                     .order_by(Message.id)))
    assert bodies == ["earlier", "m0", "m1", "m3", "m4"]
    assert count(InboundEvent, InboundEvent.processed_at.is_(None)) == 1
