from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, ManualAction, Note
from jobqueue import enroll
from tests.factories import make_contact, make_workflow, run_jobs

EXAMPLE = {
    "name": "New lead follow-up",
    "trigger": {"type": "contact_tag_added", "config": {"tag": "new-lead"}},
    "start": "s1",
    "steps": {
        "s1": {"type": "assign_user", "config": {"user_ids": [], "only_unassigned": True}, "next": "s2"},
        "s2": {"type": "manual_sms", "name": "Manual follow-up SMS",
               "config": {"message": "Hi {{ contact.first_name }}, thanks for reaching out!"}, "next": "s3"},
        "s3": {"type": "if_else", "config": {"branches": [
            {"name": "Has email", "conditions": [{"field": "contact.email", "op": "is_not_empty"}], "next": "s4"}],
            "else_next": None}},
        "s4": {"type": "add_note", "config": {"body": "followed up"}, "next": None},
    },
}


def test_example_runs_to_manual_action_then_resumes(app, account, users):
    graph = {**EXAMPLE, "steps": {**EXAMPLE["steps"]}}
    graph["steps"]["s1"] = {**graph["steps"]["s1"], "config": {"user_ids": [users["agent"].id, users["agent2"].id]}}
    wf = make_workflow(account, graph)
    contact = make_contact(account, first_name="Grace", email="g@example.com")
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    run = db.session.scalar(select(Enrollment))
    assert run.status == "parked" and run.current_step == "s2"
    action = db.session.scalar(select(ManualAction))
    assert action.message == "Hi Grace, thanks for reaching out!"
    assert action.assignee_id in (users["agent"].id, users["agent2"].id)
    from jobqueue import effects, runner

    action.status = "completed"
    db.session.commit()
    effects.carry_out(runner.resume(run.id, run.seq, "completed"))
    db.session.refresh(run)
    assert run.status == "completed"
    assert [n.body for n in db.session.scalars(select(Note))] == ["followed up"]
    steps = [r.step_id for r in db.session.scalars(select(ExecutionLog).order_by(ExecutionLog.id))]
    assert steps == ["s1", "s2", "s2", "s3", "s4"]
