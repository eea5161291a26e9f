"""Add to Workflow and Remove from Workflow, through the real engine, SqlStore and database: config checks,
enrolling once per step run, the target's rules (published, the account's, re-entry, one open run), test
runs kept apart from live ones, and removed runs ending as cancelled with their queued manual actions."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from builder.domain import workflows
from builder.domain.store import SqlStore
from builder.extensions import db
from builder.models import Account, Enrollment, ExecutionLog, ManualAction, utcnow
from engine.graph import load_graph
from jobqueue import runner
from tests.factories import make_contact, make_workflow


def add_flow(target_id, *, end=False, name="A"):
    return {"name": name, "start": "add", "steps": {
        "add": {"type": "add_to_workflow", "config": {"workflow_id": target_id, "end_this_workflow": end},
                "next": "after"},
        "after": {"type": "add_tag", "config": {"tag": "after"}, "next": None}}}


def tag_flow(name="B", tag="in-b", **settings):
    return {"name": name, "start": "t", "settings": settings,
            "steps": {"t": {"type": "add_tag", "config": {"tag": tag}, "next": None}}}


def parked_flow(name):
    """A run that waits for a person, with its manual action in the queue."""
    return {"name": name, "start": "call", "steps": {"call": {"type": "manual_call", "config": {}, "next": None}}}


def start(wf, contact, *, is_test=False):
    run = Enrollment(account_id=wf.account_id, workflow_id=wf.id, version_id=wf.published_version_id,
                     contact_id=contact.id, status="active", current_step=wf.published_version.graph["start"],
                     seq=0, is_test=is_test, source_key=f"test:{utcnow().timestamp()}")
    db.session.add(run)
    db.session.commit()
    return run


def advance(run):
    after = runner.advance([run.id])
    db.session.refresh(run)
    return after


def step_log(run, step_id):
    return db.session.scalars(select(ExecutionLog).where(
        ExecutionLog.enrollment_id == run.id, ExecutionLog.step_id == step_id)).one()


def runs_in(wf, contact):
    return list(db.session.scalars(select(Enrollment).where(
        Enrollment.workflow_id == wf.id, Enrollment.contact_id == contact.id).order_by(Enrollment.id)))


# --- config ------------------------------------------------------------------------------------

def errors_of(graph):
    with pytest.raises(ValidationError) as caught:
        load_graph(graph)
    return caught.value.messages


def test_add_to_workflow_needs_a_workflow_id():
    errors = errors_of({"name": "A", "start": "add", "steps": {"add": {"type": "add_to_workflow", "config": {}}}})
    assert "steps.add.config.workflow_id" in errors
    errors = errors_of(add_flow("7"))
    assert "steps.add.config.workflow_id" in errors
    assert load_graph(add_flow(7))["steps"]["add"]["config"] == {"workflow_id": 7, "end_this_workflow": False}


def test_remove_chosen_needs_distinct_workflows():
    def remove(config):
        return {"name": "R", "start": "r", "steps": {"r": {"type": "remove_from_workflow", "config": config}}}

    assert "steps.r.config.workflow_ids" in errors_of(remove({"target": "chosen"}))
    assert "steps.r.config.workflow_ids" in errors_of(remove({"target": "chosen", "workflow_ids": [3, 3]}))
    assert "steps.r.config.target" in errors_of(remove({"target": "everyone"}))
    assert load_graph(remove({}))["steps"]["r"]["config"]["target"] == "this"


# --- add_to_workflow ---------------------------------------------------------------------------

def test_the_contact_is_enrolled_in_the_target_and_this_run_goes_on(app, account):
    b = make_workflow(account, tag_flow())
    a = make_workflow(account, add_flow(b.id))
    contact = make_contact(account)
    run = start(a, contact)
    after = advance(run)
    [handed] = runs_in(b, contact)
    assert handed.status == "active" and handed.current_step == "t" and not handed.is_test
    assert handed.version_id == b.published_version_id
    assert handed.source_key == f"handoff:{run.id}:0"  # the step run's idempotency key
    assert handed.id in after.started  # moved on by a pass once this commits
    assert step_log(run, "add").output["run_id"] == handed.id
    assert step_log(run, "add").output["workflow_name"] == "B"
    assert run.status == "completed" and step_log(run, "after").outcome == "ok"


def test_a_step_run_taken_twice_enrolls_once(app, account):
    b = make_workflow(account, tag_flow(allow_reentry=True))
    a = make_workflow(account, add_flow(b.id))
    contact = make_contact(account)
    run = start(a, contact)
    store = SqlStore(db.session, account.id, lambda key: 0)
    first = store.add_to_workflow(run, contact, b.id, f"{run.id}:0")
    second = store.add_to_workflow(run, contact, b.id, f"{run.id}:0")
    db.session.commit()
    assert first["run_id"] == second["run_id"] is not None
    assert len(runs_in(b, contact)) == 1


def test_end_this_workflow_ends_the_run_once_handed_over(app, account):
    b = make_workflow(account, tag_flow())
    a = make_workflow(account, add_flow(b.id, end=True))
    contact = make_contact(account)
    run = start(a, contact)
    advance(run)
    assert run.status == "completed"
    assert step_log(run, "add").outcome == "ended"
    assert not db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "after")).all()
    assert len(runs_in(b, contact)) == 1


@pytest.mark.parametrize("problem", ["unpublished", "deleted", "other_account", "missing"])
def test_a_target_that_cannot_take_contacts_fails_the_step_with_a_clear_message(app, account, problem):
    if problem == "other_account":
        other = Account(name="Other", quiet_hours_enabled=False)
        db.session.add(other)
        db.session.commit()
        target_id = make_workflow(other, tag_flow()).id
    elif problem == "missing":
        target_id = 2**31 - 1
    else:
        target = make_workflow(account, tag_flow(), publish=problem != "unpublished")
        if problem == "deleted":
            workflows.retire(target)
            db.session.commit()
        target_id = target.id
    a = make_workflow(account, add_flow(target_id))
    run = start(a, make_contact(account))
    advance(run)
    expected = {"unpublished": "workflow 'B' is not published", "deleted": "workflow 'B' was deleted",
                "other_account": f"workflow {target_id} does not exist in this account",
                "missing": f"workflow {target_id} does not exist in this account"}[problem]
    assert run.status == "failed" and run.error == f"step add: {expected}"
    assert step_log(run, "add").outcome == "failed"
    assert db.session.scalar(select(Enrollment.id).where(Enrollment.workflow_id == target_id)) is None


def test_the_targets_reentry_rules_apply(app, account):
    once = make_workflow(account, tag_flow("Once"))
    again = make_workflow(account, tag_flow("Again", allow_reentry=True))
    contact = make_contact(account)
    for target in (once, again):
        done = start(target, contact)
        advance(done)
        assert done.status == "completed"
    open_run = start(make_workflow(account, parked_flow("Busy")), contact)
    advance(open_run)
    busy_id = open_run.workflow_id
    results = {}
    for target_id in (once.id, again.id, busy_id):
        run = start(make_workflow(account, add_flow(target_id, name=f"to {target_id}")), contact)
        advance(run)
        results[target_id] = step_log(run, "add")
        assert run.status == "completed"  # a refusal is skipped: the run goes on
    assert results[once.id].outcome == "skipped"
    assert results[once.id].output["reason"] == (
        "the contact has been through 'Once' before and it does not allow re-entry")
    assert results[again.id].outcome == "ok" and len(runs_in(again, contact)) == 2
    assert results[busy_id].outcome == "skipped"
    assert results[busy_id].output["reason"] == "the contact is already in 'Busy'"


def test_a_test_run_enrolls_a_test_run_never_a_live_one(app, account):
    b = make_workflow(account, parked_flow("B"))
    contact = make_contact(account)
    live = start(b, contact)
    advance(live)
    assert live.status == "parked"  # a live run in B: a live handover would be refused
    a = make_workflow(account, add_flow(b.id))
    run = start(a, contact, is_test=True)
    advance(run)
    handed = [r for r in runs_in(b, contact) if r.id != live.id]
    assert [r.is_test for r in handed] == [True]
    assert step_log(run, "add").outcome == "ok"


# --- remove_from_workflow ----------------------------------------------------------------------

def remove_flow(target, ids=None, name="Remover"):
    config = {"target": target, **({"workflow_ids": ids} if ids is not None else {})}
    return {"name": name, "start": "note", "steps": {
        # A queued manual action of this run that does not park it: "this" takes it out of the queue.
        "note": {"type": "manual_sms", "config": {"message": "hi", "continue_without_waiting": True},
                 "next": "rm"},
        "rm": {"type": "remove_from_workflow", "config": config, "next": "after"},
        "after": {"type": "add_tag", "config": {"tag": "after"}, "next": None}}}


def test_removing_this_run_cancels_it_and_its_queued_actions(app, account):
    wf = make_workflow(account, remove_flow("this"))
    run = start(wf, make_contact(account))
    after = advance(run)
    assert run.status == "cancelled"
    assert run.error == f"removed by step rm (Remove from Workflow) of workflow {wf.id}"
    assert step_log(run, "rm").output["removed_actions"] == 1
    [action] = db.session.scalars(select(ManualAction).where(ManualAction.enrollment_id == run.id)).all()
    assert action.status == "deleted" and action in after.removed_actions
    assert not db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "after")).all()


@pytest.mark.parametrize("target", ["chosen", "all_others"])
def test_removing_other_runs_cancels_them_and_their_queued_actions(app, account, target):
    contact = make_contact(account)
    b, c = make_workflow(account, parked_flow("B")), make_workflow(account, parked_flow("C"))
    in_b, in_c = start(b, contact), start(c, contact)
    advance(in_b)
    advance(in_c)
    someone_else = start(b, make_contact(account, phone="+14155551001"))
    advance(someone_else)
    wf = make_workflow(account, remove_flow(target, [b.id] if target == "chosen" else None))
    run = start(wf, contact)
    after = advance(run)
    db.session.refresh(in_b)
    db.session.refresh(in_c)
    db.session.refresh(someone_else)
    assert run.status == "completed"  # the remover goes on
    assert in_b.status == "cancelled"
    assert in_b.error == f"removed by step rm (Remove from Workflow) of workflow {wf.id}"
    assert in_c.status == ("cancelled" if target == "all_others" else "parked")
    assert someone_else.status == "parked"
    ended = {r["run_id"] for r in step_log(run, "rm").output["runs"]}
    assert ended == ({in_b.id, in_c.id} if target == "all_others" else {in_b.id})
    removed = {a.id for a in after.removed_actions}
    actions = {a.enrollment_id: a for a in db.session.scalars(select(ManualAction))}
    assert actions[in_b.id].status == "deleted" and actions[in_b.id].id in removed
    assert actions[in_c.id].status == ("deleted" if target == "all_others" else "queued")
    assert actions[someone_else.id].status == "queued"
    assert actions[run.id].status == "queued"  # the remover's own action stays
    # The removed run's log says so.
    cancel_row = db.session.scalars(select(ExecutionLog).where(ExecutionLog.enrollment_id == in_b.id,
                                                               ExecutionLog.outcome == "cancelled")).one()
    assert cancel_row.error == in_b.error


def test_nothing_to_remove_is_skipped(app, account):
    wf = make_workflow(account, remove_flow("all_others"))
    run = start(wf, make_contact(account))
    advance(run)
    assert step_log(run, "rm").outcome == "skipped"
    assert step_log(run, "rm").output["reason"] == "the contact had no open run to remove"


def test_a_test_run_removes_only_test_runs(app, account):
    contact = make_contact(account)
    b = make_workflow(account, parked_flow("B"))
    live, test = start(b, contact), start(b, contact, is_test=True)
    advance(live)
    advance(test)
    run = start(make_workflow(account, remove_flow("all_others")), contact, is_test=True)
    advance(run)
    db.session.refresh(live)
    db.session.refresh(test)
    assert live.status == "parked" and test.status == "cancelled"
