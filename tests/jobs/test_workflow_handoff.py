"""Workflows handing contacts on, through RQ on both databases: a contact Add to Workflow hands from A to B
runs B's steps (and A ends with end_this_workflow); Remove from Workflow cancels the contact's runs in the
chosen (or every other) workflow, their queued manual actions leave the queue and the agents' Manual Actions
lists hear it live; a run being moved by another worker is removed once that worker's pass commits."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, ManualAction
from jobqueue import runner
from tests.engine.test_actions import enroll, flow, fresh
from tests.factories import connect, drain, make_contact, make_workflow, received


def tagging(name, tag):
    return {**flow({"t": {"type": "add_tag", "config": {"tag": tag}}}), "name": name}


def parked(name):
    return {**flow({"call": {"type": "manual_call", "config": {}}}), "name": name}


def runs_of(wf, contact):
    return list(db.session.scalars(select(Enrollment).where(
        Enrollment.workflow_id == wf.id, Enrollment.contact_id == contact.id).order_by(Enrollment.id)))


@pytest.mark.parametrize("end", [False, True])
def test_a_contact_handed_from_a_to_b_runs_bs_steps(app, account, end):
    b = make_workflow(account, tagging("B", "in-b"))
    a = make_workflow(account, {**flow({
        "add": {"type": "add_to_workflow", "config": {"workflow_id": b.id, "end_this_workflow": end}, "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "after-a"}},
    }), "name": "A"})
    contact = make_contact(account)
    enroll(app, a, [contact])  # runs A's pass, then the pass that moves the new run in B
    [in_a], [in_b] = runs_of(a, contact), runs_of(b, contact)
    assert in_b.status == "completed" and in_b.source_key == f"handoff:{in_a.id}:0"
    assert in_a.status == "completed"
    assert sorted(fresh(contact).tags) == (["in-b"] if end else ["after-a", "in-b"])
    outcomes = dict(db.session.execute(select(ExecutionLog.step_id, ExecutionLog.outcome)
                                       .where(ExecutionLog.enrollment_id == in_a.id)).all())
    assert outcomes == ({"add": "ended"} if end else {"add": "ok", "t": "ok"})


def test_a_workflow_that_hands_on_twice_in_a_row_is_refused_the_second_time(app, account):
    b = make_workflow(account, tagging("B", "in-b"))
    a = make_workflow(account, {**flow({"add": {"type": "add_to_workflow", "config": {"workflow_id": b.id}}}),
                                "name": "A", "settings": {"allow_reentry": True}})
    contact = make_contact(account)
    enroll(app, a, [contact])
    enroll(app, a, [contact])  # B keeps contacts out once they have been through it
    assert len(runs_of(b, contact)) == 1
    second = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "add")
                                .order_by(ExecutionLog.id)).all()[-1]
    assert second.outcome == "skipped" and "does not allow re-entry" in second.output["reason"]


@pytest.mark.parametrize("target", ["chosen", "all_others"])
def test_remove_cancels_runs_and_their_queued_actions_live(app, account, users, target):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    b, c = make_workflow(account, parked("B")), make_workflow(account, parked("C"))
    enroll(app, b, [contact])
    enroll(app, c, [contact])
    actions = {a.workflow_id: a for a in db.session.scalars(select(ManualAction))}
    assert {a.status for a in actions.values()} == {"queued"}
    agent = connect(app, users["agent"])
    drain(agent)
    config = {"target": target, **({"workflow_ids": [b.id]} if target == "chosen" else {})}
    remover = make_workflow(account, {**flow({"rm": {"type": "remove_from_workflow", "config": config}}),
                                      "name": "Remover"})
    enroll(app, remover, [contact])
    [in_b], [in_c] = runs_of(b, contact), runs_of(c, contact)
    assert in_b.status == "cancelled" and f"of workflow {remover.id}" in in_b.error
    assert in_c.status == ("cancelled" if target == "all_others" else "parked")
    assert fresh(actions[b.id]).status == "deleted"
    assert fresh(actions[c.id]).status == ("deleted" if target == "all_others" else "queued")
    gone = {actions[b.id].id} | ({actions[c.id].id} if target == "all_others" else set())
    assert {e["id"] for e in received(agent, "manual_action.deleted")} == gone
    assert runs_of(remover, contact)[0].status == "completed"
    # A resume for the removed run's pause (its timer or person, late) is ignored: it stays cancelled.
    runner.resume(in_b.id, 1, "manual_done")
    assert fresh(in_b).status == "cancelled"


def test_remove_waits_for_a_run_another_worker_is_moving(app, account, database_url):
    """On PostgreSQL, a pass holds its runs' rows locked until it commits: removing such a run waits for it,
    then ends it as that pass left it (never under it)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: nothing to race")
    contact = make_contact(account)
    b = make_workflow(account, parked("B"))
    enroll(app, b, [contact])
    [in_b] = runs_of(b, contact)
    run_id = in_b.id
    remover = make_workflow(account, {**flow({"rm": {"type": "remove_from_workflow",
                                                     "config": {"target": "chosen", "workflow_ids": [b.id]}}}),
                                      "name": "Remover"})
    other = create_engine(database_url)
    held = threading.Event()
    released = []

    def other_worker():
        with other.begin() as conn:  # another worker's pass: the run locked, its seq moved on
            conn.execute(text("SELECT id FROM enrollments WHERE id = :id FOR UPDATE"), {"id": run_id})
            conn.execute(text("UPDATE enrollments SET seq = seq + 10 WHERE id = :id"), {"id": run_id})
            held.set()
            time.sleep(1.0)
            released.append(time.monotonic())

    worker = threading.Thread(target=other_worker)
    worker.start()
    held.wait(5)
    enroll(app, remover, [contact])
    finished = time.monotonic()
    worker.join()
    other.dispose()
    assert released and finished >= released[0]
    in_b = fresh(in_b)
    assert in_b.status == "cancelled"
    assert in_b.seq == 1 + 10 + 1  # the other pass's change kept, then the cancellation's log row
