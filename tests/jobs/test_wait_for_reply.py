"""Wait for customer reply: the replied branch on a reply, the other on time-out, and never both."""

from datetime import timedelta

import pytest

from builder.extensions import db
from engine.graph import load_graph
from jobqueue import effects, runner
from tests.engine.test_actions import enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow, run_jobs, run_scheduled_jobs


def timers(app) -> list:
    """When each scheduled resume job is due (other scheduled work, such as the builder's stats, left out)."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    from jobqueue.connection import get_redis
    from jobqueue.queues import get_queue

    registry = ScheduledJobRegistry(queue=get_queue())
    jobs = Job.fetch_many(registry.get_job_ids(), connection=get_redis())
    return [registry.get_scheduled_time(job.id) for job in jobs
            if job is not None and job.func_name == "jobqueue.jobs.resume_enrollment"]


WAIT_FOR_REPLY = {
    "w": {"type": "wait_for_reply", "config": {"timeout_amount": 2, "timeout_unit": "days",
                                               "replied_next": "yes", "timeout_next": "no"}},
    "yes": {"type": "add_tag", "config": {"tag": "replied"}},
    "no": {"type": "add_tag", "config": {"tag": "silent"}},
}


def test_waits_with_a_timeout_timer(app, account):
    wf = make_workflow(account, flow(WAIT_FOR_REPLY))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    run = runs()[0]
    assert (run.status, run.current_step) == ("waiting", "w")
    (when,) = timers(app)
    assert abs(when.replace(tzinfo=None) - run.wake_at) < timedelta(seconds=2)
    assert logs()[0].output["waiting_for"] == "reply"


def test_a_reply_takes_the_replied_branch_and_the_late_timer_does_nothing(app, account):
    wf = make_workflow(account, flow(WAIT_FOR_REPLY))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    run = runs()[0]
    effects.carry_out(runner.resume(run.id, run.seq, "reply"))
    run_jobs(app)
    run = fresh(run)
    assert run.status == "completed" and fresh(contact).tags == ["replied"]

    assert len(timers(app)) == 1  # the time-out timer still fires...
    run_scheduled_jobs(app)
    run_jobs(app)
    assert fresh(contact).tags == ["replied"]  # ...and finds the run gone on
    assert [(r.step_id, r.outcome) for r in logs()] == [("w", "waiting"), ("w", "ok"), ("yes", "ok")]


def test_no_reply_in_time_takes_the_other_branch(app, account):
    wf = make_workflow(account, flow(WAIT_FOR_REPLY))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    assert len(timers(app)) == 1
    run_scheduled_jobs(app)
    run_jobs(app)
    run = fresh(runs()[0])
    assert run.status == "completed" and fresh(contact).tags == ["silent"]
    assert logs()[1].output["reason"] == "no reply in time"


def test_an_empty_exit_ends_the_run(app, account):
    steps = {"w": {"type": "wait_for_reply", "config": {"timeout_amount": 1, "timeout_unit": "hours"}}}
    wf = make_workflow(account, flow(steps))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    run = runs()[0]
    effects.carry_out(runner.resume(run.id, run.seq, "reply"))
    db.session.expire_all()
    assert fresh(run).status == "completed"


@pytest.mark.parametrize(("config", "path"), [
    ({"timeout_amount": 0}, "steps.w.config.timeout_amount"),
    ({"timeout_unit": "weeks"}, "steps.w.config.timeout_unit"),
    ({"replied_next": "nowhere"}, "steps.w.config.replied_next"),
])
def test_bad_configs_name_the_field(config, path):
    from marshmallow import ValidationError

    graph = flow({"w": {"type": "wait_for_reply", "config": config}})
    with pytest.raises(ValidationError) as info:
        load_graph(graph)
    from engine.graph import flatten

    assert path in flatten(info.value.messages)
