"""The interpreter through the job layer: logs, failures, cancellation, resumes,
idempotency, sandboxed merge fields, re-entry and test runs."""

import pytest
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import (
    BulkEnrollment,
    ContactTag,
    Enrollment,
    ExecutionLog,
    ManualAction,
    Message,
    Note,
    Workflow,
    WorkflowVersion,
    utcnow,
)
from engine import registry
from engine.graph import load_graph
from engine.interpreter import MAX_STEPS_PER_PASS
from engine.registry import Action, Result
from jobqueue import runner
from jobqueue.enroll import create_batch_enrollments, create_request
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs


def flow(steps, start=None, **settings):
    return {"name": "Test flow", "start": start or next(iter(steps)), "steps": steps, "settings": settings}


def enroll(app, wf, contacts, *, is_test=False, version=None):
    bulk = create_request(wf, version or wf.published_version, [c.id for c in contacts], is_test=is_test)
    run_jobs(app)
    return db.session.get(BulkEnrollment, bulk.id)


def logs(**where):
    return list(db.session.scalars(select(ExecutionLog).filter_by(**where).order_by(ExecutionLog.id)))


def runs(**where):
    return list(db.session.scalars(select(Enrollment).filter_by(**where).order_by(Enrollment.id)))


def count(model, **where):
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def fresh(obj):
    db.session.refresh(obj)
    return obj


def stored_without_validation(account, graph):
    """A published version saved as-is, as one stored before today's rules would be."""
    wf = Workflow(account_id=account.id, name=graph["name"])
    db.session.add(wf)
    db.session.flush()
    version = WorkflowVersion(workflow_id=wf.id, number=1, graph=graph, published_at=utcnow())
    db.session.add(version)
    db.session.flush()
    wf.published_version_id = version.id
    db.session.commit()
    return wf


# A throwaway action type for this module: it raises for contacts named "Boom".
class ExplodeConfig(Schema):
    note = fields.String(load_default="")


class Explode(Action):
    type = "test_explode"
    label = "Explode (tests)"
    category = "Tests"
    schema = ExplodeConfig

    def run(self, ctx):
        if ctx.contact.first_name == "Boom":
            ctx.store.add_tag(ctx.contact, "half-done")
            raise RuntimeError("boom")
        return Result.go(ctx.step.next)


@pytest.fixture(autouse=True, scope="module")
def explode_type():
    registry.register(Explode)
    yield
    registry.unregister(Explode.type)


# --- the execution log --------------------------------------------------------------

def test_one_log_row_per_step_run(app, account):
    steps = {
        "tag": {"type": "add_tag", "config": {"tag": "new"}, "next": "note"},
        "note": {"type": "add_note", "config": {"body": "Hi {{ contact.first_name }}"}, "next": "wait"},
        "wait": {"type": "wait", "config": {"amount": 5, "unit": "minutes"}, "next": "done"},
        "done": {"type": "add_tag", "config": {"tag": "done"}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account, first_name="Ada")
    before = utcnow()
    enroll(app, wf, [c])
    run = runs()[0]
    rows = logs()
    assert [(r.step_id, r.step_type, r.outcome) for r in rows] == [
        ("tag", "add_tag", "ok"), ("note", "add_note", "ok"), ("wait", "wait", "waiting")]
    assert rows[0].input == {"tag": "new"} and rows[0].output == {"tag": "new", "next": "note"}
    assert rows[1].output == {"body": "Hi Ada", "next": "wait"}
    assert rows[2].input == {"mode": "delay", "amount": 5, "unit": "minutes"}
    assert rows[2].output["until"] == run.wake_at.isoformat()
    for row in rows:
        assert (row.enrollment_id, row.workflow_id, row.contact_id) == (run.id, wf.id, c.id)
        assert row.version_id == wf.published_version_id and row.error is None and row.is_test is False
        assert before <= row.started_at <= row.finished_at <= utcnow()
        assert row.duration_ms >= 0
    run_scheduled_jobs(app)
    run_jobs(app)
    rows = logs()
    assert [(r.step_id, r.outcome) for r in rows][3:] == [("wait", "ok"), ("done", "ok")]
    keys = [r.idempotency_key for r in rows]
    assert keys == [f"{run.id}:{seq}" for seq in range(5)]
    assert fresh(run).seq == 5 and run.status == "completed"


# --- failures ---------------------------------------------------------------------

def test_a_handler_exception_fails_only_that_run(app, account):
    wf = make_workflow(account, flow({
        "x": {"type": "test_explode", "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "after"}},
    }))
    boom, fine = make_contact(account, first_name="Boom"), make_contact(account, first_name="Fine")
    enroll(app, wf, [boom, fine])
    by_contact = {r.contact_id: r for r in runs()}
    failed, ok = by_contact[boom.id], by_contact[fine.id]
    assert failed.status == "failed" and failed.error == "step x: RuntimeError: boom"
    assert failed.finished_at is not None and failed.current_step == "x"
    assert ok.status == "completed" and fresh(fine).tags == ["after"]
    row = logs(contact_id=boom.id)[0]
    assert (row.step_id, row.outcome, row.error) == ("x", "failed", "RuntimeError: boom")
    assert [r.step_id for r in logs(contact_id=boom.id)] == ["x"]  # nothing after the failure


def test_a_handler_that_returns_nothing_fails_its_run(app, account):
    class Silent(Action):
        type, label, category, schema = "test_silent", "Silent", "Tests", ExplodeConfig

        def run(self, ctx):
            return None

    registry.register(Silent)
    try:
        wf = make_workflow(account, flow({"s": {"type": "test_silent"}}))
        enroll(app, wf, [make_contact(account)])
    finally:
        registry.unregister("test_silent")
    run = runs()[0]
    assert run.status == "failed" and "returned NoneType, not a Result" in run.error


def test_step_missing_from_the_version_fails_the_run(app, account):
    wf = stored_without_validation(account, {"name": "Broken", "start": "ghost", "steps": {}})
    enroll(app, wf, [make_contact(account)])
    run = runs()[0]
    assert run.status == "failed" and run.error == "step 'ghost' is not in this workflow version"


def test_runaway_loop_is_stopped(app, account):
    # Validation rejects loops without a wait; the guard catches one stored without validation.
    wf = stored_without_validation(account, {"name": "Spin", "start": "a", "steps": {
        "a": {"type": "goto", "config": {"target": "b"}},
        "b": {"type": "goto", "config": {"target": "a"}},
    }})
    enroll(app, wf, [make_contact(account)])
    run = runs()[0]
    assert run.status == "failed" and "loop without a wait" in run.error
    assert count(ExecutionLog) == MAX_STEPS_PER_PASS


# --- deleted contacts ---------------------------------------------------------------

WAIT_THEN_NOTE = {
    "w": {"type": "wait", "config": {"amount": 1, "unit": "hours"}, "next": "n"},
    "n": {"type": "add_note", "config": {"body": "after the wait"}},
}


def test_deleted_contact_is_cancelled_when_its_wait_ends(app, account):
    wf = make_workflow(account, flow(WAIT_THEN_NOTE))
    c = make_contact(account)
    enroll(app, wf, [c])
    c.deleted_at = utcnow()
    db.session.commit()
    run_scheduled_jobs(app)
    run_jobs(app)
    run = runs()[0]
    assert run.status == "cancelled" and run.error == "the contact was deleted" and run.finished_at is not None
    last = logs()[-1]
    assert (last.step_id, last.outcome, last.error) == ("w", "cancelled", "the contact was deleted")
    assert count(Note) == 0


def test_deleted_contact_is_cancelled_before_its_first_step(app, account):
    wf = make_workflow(account, flow({"n": {"type": "add_note", "config": {"body": "hello"}}}))
    c = make_contact(account)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)  # what the queued batch job (never run here) would do
    c.deleted_at = utcnow()
    db.session.commit()
    runner.advance(ids)
    run = runs()[0]
    assert run.status == "cancelled" and count(Note) == 0
    assert [(r.outcome, r.error) for r in logs()] == [("cancelled", "the contact was deleted")]


def test_deleted_contacts_are_not_enrolled(app, account):
    wf = make_workflow(account, flow({"n": {"type": "add_note", "config": {"body": "hello"}}}))
    gone = make_contact(account, deleted_at=utcnow())
    bulk = enroll(app, wf, [gone])
    assert runs() == [] and bulk.skipped == 1


# --- resumes and idempotency --------------------------------------------------------

MANUAL_THEN_NOTE = {
    "m": {"type": "manual_sms", "config": {"message": "Hi"}, "next": "n"},
    "n": {"type": "add_note", "config": {"body": "done"}},
}


def test_resume_with_a_stale_seq_is_ignored(app, account):
    wf = make_workflow(account, flow(MANUAL_THEN_NOTE))
    enroll(app, wf, [make_contact(account)])
    run = runs()[0]
    parked_seq = run.seq
    runner.resume(run.id, parked_seq - 1, "completed")
    assert fresh(run).status == "parked" and count(ExecutionLog) == 1
    runner.resume(run.id, parked_seq, "completed")
    assert fresh(run).status == "completed" and count(Note) == 1
    rows = count(ExecutionLog)
    runner.resume(run.id, parked_seq, "completed")  # delivered twice
    assert count(ExecutionLog) == rows and count(Note) == 1


def test_timer_for_a_parked_run_does_not_move_it(app, account):
    wf = make_workflow(account, flow(MANUAL_THEN_NOTE))
    enroll(app, wf, [make_contact(account)])
    run = runs()[0]
    runner.resume(run.id, run.seq + 1, "timer")
    assert fresh(run).status == "parked"


def test_advancing_the_same_enrollment_twice_applies_each_effect_once(app, account, users):
    steps = {
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent"].id, users["agent2"].id]}, "next": "t"},
        "t": {"type": "add_tag", "config": {"tag": "once"}, "next": "n"},
        "n": {"type": "add_note", "config": {"body": "once"}, "next": "s"},
        "s": {"type": "send_sms", "config": {"message": "once"}, "next": "m"},
        "m": {"type": "manual_call", "config": {}},
    }
    wf = make_workflow(account, flow(steps))
    c = make_contact(account)
    bulk = create_request(wf, wf.published_version, [c.id], is_test=False)
    ids = create_batch_enrollments(bulk.id, 0)
    assert create_batch_enrollments(bulk.id, 0) == ids  # the batch job run twice: same enrollments
    runner.advance(ids)
    runner.advance(ids)
    runner.advance(ids + ids)
    run_jobs(app)  # the batch job itself, delivered late
    assert count(Enrollment) == 1 and runs()[0].status == "parked"
    assert count(ContactTag) == 1 and count(Note) == 1 and count(Message) == 1 and count(ManualAction) == 1
    assert [r.step_id for r in logs()] == ["a", "t", "n", "s", "m"]
    assignee = fresh(c).assigned_user_id
    assert db.session.scalar(select(ManualAction.assignee_id)) == assignee


# --- merge fields in the sandbox ----------------------------------------------------

def test_unsafe_merge_field_is_rejected_when_saved():
    graph = flow({"n": {"type": "add_note", "config": {"body": "{{ contact.__class__ }}"}}})
    with pytest.raises(ValidationError) as caught:
        load_graph(graph)
    assert caught.value.messages == {
        "steps.n.config.body": ["Merge field error: '__class__' is not allowed in merge fields"]}


@pytest.mark.parametrize("template, reason", [
    ("{{ contact.__class__ }}", "'__class__' is not allowed in merge fields"),
    ("{{ ''.__class__.__mro__ }}", "'__mro__' is not allowed in merge fields"),
    ("{{ contact|attr('__class__') }}", "the 'attr' filter is not available in merge fields"),
])
def test_unsafe_merge_field_fails_its_step_not_the_batch(app, account, template, reason):
    bad = stored_without_validation(account, flow({"n": {"type": "add_note", "config": {"body": template}}}))
    good = make_workflow(account, flow({"n": {"type": "add_note", "config": {"body": "fine"}}}))
    c1, c2 = make_contact(account), make_contact(account)
    bulk_bad = create_request(bad, bad.published_version, [c1.id], is_test=False)
    bulk_good = create_request(good, good.published_version, [c2.id], is_test=False)
    ids = create_batch_enrollments(bulk_bad.id, 0) + create_batch_enrollments(bulk_good.id, 0)
    runner.advance(ids)  # one transaction for both
    failed, completed = runs(workflow_id=bad.id)[0], runs(workflow_id=good.id)[0]
    assert failed.status == "failed" and failed.error == f"step n: MergeFieldError: {reason}"
    assert completed.status == "completed"
    assert [n.body for n in db.session.scalars(select(Note))] == ["fine"]
    assert logs(workflow_id=bad.id)[0].outcome == "failed"


# --- re-entry -------------------------------------------------------------------

def test_without_reentry_a_contact_enters_once(app, account):
    wf = make_workflow(account, flow({"t": {"type": "add_note", "config": {"body": "hi"}}}))
    c = make_contact(account)
    enroll(app, wf, [c])
    second = enroll(app, wf, [c])
    assert count(Enrollment) == 1 and count(Note) == 1
    assert (second.enrolled, second.skipped) == (0, 1)


def test_with_reentry_a_finished_contact_enters_again(app, account):
    wf = make_workflow(account, flow({"t": {"type": "add_note", "config": {"body": "hi"}}}, allow_reentry=True))
    c = make_contact(account)
    enroll(app, wf, [c])
    enroll(app, wf, [c])
    assert [r.status for r in runs()] == ["completed", "completed"] and count(Note) == 2


def test_with_reentry_never_twice_at_once(app, account):
    wf = make_workflow(account, flow(WAIT_THEN_NOTE, allow_reentry=True))
    c = make_contact(account)
    enroll(app, wf, [c])
    second = enroll(app, wf, [c])
    assert second.skipped == 1 and [r.status for r in runs()] == ["waiting"]
    bulk = create_request(wf, wf.published_version, [c.id, c.id], is_test=False)  # twice in one request
    run_jobs(app)
    assert db.session.get(BulkEnrollment, bulk.id).total == 1 and count(Enrollment) == 1
    run_scheduled_jobs(app)
    run_jobs(app)
    assert [r.status for r in runs()] == ["completed"]
    enroll(app, wf, [c])
    assert [r.status for r in runs()] == ["completed", "waiting"]


def test_reentry_is_per_workflow(app, account):
    one = make_workflow(account, flow({"t": {"type": "add_note", "config": {"body": "one"}}}))
    two = make_workflow(account, flow({"t": {"type": "add_note", "config": {"body": "two"}}}))
    c = make_contact(account)
    enroll(app, one, [c])
    enroll(app, two, [c])
    assert sorted(n.body for n in db.session.scalars(select(Note))) == ["one", "two"]


# --- test runs ------------------------------------------------------------------

def test_test_run_uses_a_draft_and_ignores_real_runs(app, account):
    wf = make_workflow(account, flow(WAIT_THEN_NOTE), publish=False)
    draft = wf.latest_version()
    assert wf.published_version is None
    c = make_contact(account)
    enroll(app, wf, [c], is_test=True, version=draft)
    enroll(app, wf, [c], is_test=True, version=draft)  # a test run again, while the first still waits
    assert [(r.is_test, r.status, r.version_id) for r in runs()] == [(True, "waiting", draft.id)] * 2
    run_scheduled_jobs(app)
    run_jobs(app)
    assert count(Note, is_test=True) == 2 and count(ExecutionLog, is_test=False) == 0


def test_test_runs_do_not_use_up_a_real_entry(app, account):
    wf = make_workflow(account, flow({"t": {"type": "add_note", "config": {"body": "hi"}}}))
    c = make_contact(account)
    enroll(app, wf, [c], is_test=True)
    real = enroll(app, wf, [c])
    assert real.enrolled == 1 and [r.is_test for r in runs()] == [True, False]
