"""Goal Event and Wait "until an event" through the database, Redis and RQ, on SQLite and PostgreSQL.

Events where they happen: a contact edited through the API (tags, fields), an inbound SMS, a manual action
or a task completed through the API, and the engine's own contact steps (at the end of their pass). A run
before the goal jumps to it exactly once; its timer goes stale and a manual action it was parked on leaves
the queue (the lists hear it live)."""

from __future__ import annotations

from sqlalchemy import select

import jobqueue.replies  # noqa: F401  (registers the reactions, as the worker does)
from builder.extensions import db
from builder.models import Enrollment, ExecutionLog, ManualAction, Task
from tests.engine.test_actions import enroll, flow, fresh
from tests.factories import connect, drain, make_contact, make_workflow, received, run_jobs, run_scheduled_jobs
from tests.jobs.test_replies import PHONE, reply
from tests.jobs.test_wait_for_reply import timers


def goal_flow(goal: dict, *, first: dict | None = None) -> dict:
    """s1 (a wait of a day, or `first`) -> s2 tag "skipped-step" -> goal -> s3 tag "after-goal"."""
    return flow({
        "s1": {**(first or {"type": "wait", "config": {"amount": 1, "unit": "days"}}), "next": "s2"},
        "s2": {"type": "add_tag", "config": {"tag": "skipped-step"}, "next": "goal"},
        "goal": {"type": "goal_event", "config": goal, "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "after-goal"}, "next": None},
    })


def run_in(wf) -> Enrollment:
    db.session.expire_all()
    return db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == wf.id)).one()


def steps_of(run: Enrollment) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(ExecutionLog).where(ExecutionLog.enrollment_id == run.id)
                              .order_by(ExecutionLog.id))
    return [(r.step_id, r.outcome) for r in rows]


def goal_row(run: Enrollment) -> ExecutionLog:
    return db.session.scalars(select(ExecutionLog).where(ExecutionLog.enrollment_id == run.id,
                                                         ExecutionLog.step_id == "goal")).one()


def test_a_tag_added_through_the_api_jumps_the_waiting_run_once_and_its_timer_goes_stale(app, account, as_user):
    wf = make_workflow(account, goal_flow({"goal": "tag_added", "tag": "Bought"}))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    assert run_in(wf).status == "waiting" and len(timers(app)) == 1
    res = as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["bought"]})
    assert res.status_code == 200, res.json
    run_jobs(app)
    run = run_in(wf)
    assert run.status == "completed"
    assert sorted(fresh(contact).tags) == ["after-goal", "bought"]  # s2 skipped
    row = goal_row(run)
    assert row.outcome == "ok" and row.output["goal_met"] is True and row.output["jumped_from"] == "s1"
    # The day's timer fires later and finds the run gone on; editing again does not jump it twice.
    run_scheduled_jobs(app)
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["after-goal"]})
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["after-goal", "Bought"]})
    run_jobs(app)
    assert steps_of(run_in(wf)) == [("s1", "waiting"), ("goal", "ok"), ("s3", "ok")]


def test_a_field_condition_goal_is_met_by_an_edit(app, account, as_user):
    cond = {"field": "contact.email", "op": "contains", "value": "@customer.test"}
    wf = make_workflow(account, goal_flow({"goal": "field_condition", "condition": cond}))
    contact = make_contact(account, email="lead@example.com")
    enroll(app, wf, [contact])
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"first_name": "Still a lead"})
    assert run_in(wf).status == "waiting"
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"email": "ada@customer.test"})
    run_jobs(app)
    assert run_in(wf).status == "completed" and fresh(contact).tags == ["after-goal"]


def test_a_reply_meets_the_goal_and_the_parked_manual_action_leaves_the_queue_live(app, account, users, as_user):
    first = {"type": "manual_call", "config": {"name": "Call them"}}
    wf = make_workflow(account, goal_flow({"goal": "replied"}, first=first))
    contact = make_contact(account, phone=PHONE, assigned_user_id=users["agent"].id)
    enroll(app, wf, [contact])
    action = db.session.scalars(select(ManualAction)).one()
    assert run_in(wf).status == "parked"
    agent = connect(app, users["agent"])
    drain(agent)
    reply(account, "I'd like to buy")
    run_jobs(app)
    run = run_in(wf)
    assert run.status == "completed" and fresh(contact).tags == ["after-goal"]
    assert goal_row(run).output["jumped_from"] == "s1"
    assert fresh(action).status == "deleted"
    assert [e["id"] for e in received(agent, "manual_action.deleted")] == [action.id]
    # Working the action now is refused as for any deleted action, and moves nothing.
    assert as_user("agent").post(f"/api/manual-actions/{action.id}/complete",
                                 json={"outcome": "answered"}).status_code in (404, 409)
    run_jobs(app)
    assert steps_of(run_in(wf)) == [("s1", "parked"), ("goal", "ok"), ("s3", "ok")]


def test_a_manual_action_completed_meets_the_goal_of_another_workflow(app, account, users, as_user):
    wf = make_workflow(account, goal_flow({"goal": "manual_action_completed"}))
    queue = make_workflow(account, flow({"m": {"type": "manual_call", "config": {}}}))
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    enroll(app, wf, [contact])
    enroll(app, queue, [contact])
    action = db.session.scalars(select(ManualAction)).one()
    res = as_user("agent").post(f"/api/manual-actions/{action.id}/complete", json={"outcome": "answered"})
    assert res.status_code == 200, res.json
    run_jobs(app)
    assert run_in(wf).status == "completed" and run_in(queue).status == "completed"
    assert fresh(contact).tags == ["after-goal"]


def test_a_task_completed_meets_the_goal(app, account, users, as_user):
    wf = make_workflow(account, goal_flow({"goal": "task_completed"}))
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    enroll(app, wf, [contact])
    agent = as_user("agent")
    task = agent.post("/api/tasks", json={"contact_id": contact.id, "title": "Quote",
                                          "due_at": "2030-01-15T09:30:00Z"}).json
    assert run_in(wf).status == "waiting"  # adding a task is not completing one
    assert agent.post(f"/api/tasks/{task['id']}/complete").status_code == 200
    run_jobs(app)
    assert run_in(wf).status == "completed" and db.session.get(Task, task["id"]).status == "completed"


def test_a_workflow_step_adding_the_tag_meets_the_goal_of_another_run(app, account):
    wf = make_workflow(account, goal_flow({"goal": "tag_added", "tag": "vip"}))
    tagger = make_workflow(account, flow({"t": {"type": "add_tag", "config": {"tag": "VIP"}}}))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    enroll(app, tagger, [contact])
    run_jobs(app)
    run = run_in(wf)
    assert run.status == "completed" and sorted(fresh(contact).tags) == ["VIP", "after-goal"]
    assert goal_row(run).output["event"] == "tag_added VIP"


def test_a_run_waiting_at_its_goal_goes_on_when_met(app, account, as_user):
    graph = flow({
        "goal": {"type": "goal_event", "config": {"goal": "tag_added", "tag": "paid", "if_not_met": "wait"},
                 "next": "s3"},
        "s3": {"type": "add_tag", "config": {"tag": "after-goal"}, "next": None},
    })
    wf = make_workflow(account, graph)
    contact = make_contact(account)
    enroll(app, wf, [contact])
    assert (run_in(wf).status, run_in(wf).current_step) == ("parked", "goal")
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": ["paid"]})
    run_jobs(app)
    assert run_in(wf).status == "completed" and sorted(fresh(contact).tags) == ["after-goal", "paid"]


def test_if_not_met_end_ends_the_run(app, account):
    graph = flow({"goal": {"type": "goal_event", "config": {"goal": "replied", "if_not_met": "end"}, "next": "s3"},
                  "s3": {"type": "add_tag", "config": {"tag": "after-goal"}, "next": None}})
    wf = make_workflow(account, graph)
    contact = make_contact(account)
    enroll(app, wf, [contact])
    assert run_in(wf).status == "completed" and fresh(contact).tags == []


# --- Wait "until an event" ----------------------------------------------------------------------------------

def event_wait(**config) -> dict:
    return flow({
        "w": {"type": "wait", "config": {"mode": "event", "timeout_amount": 2, "timeout_unit": "days",
                                         "event_next": "yes", "timeout_next": "no", **config}},
        "yes": {"type": "add_tag", "config": {"tag": "happened"}},
        "no": {"type": "add_tag", "config": {"tag": "timed-out"}},
    })


def test_an_event_wait_takes_event_happened_and_its_timeout_goes_stale(app, account, as_user):
    wf = make_workflow(account, event_wait(event="tag_removed", event_tag="lead"))
    contact = make_contact(account, tags=["lead"])
    enroll(app, wf, [contact])
    assert run_in(wf).status == "waiting" and len(timers(app)) == 1
    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"tags": []})
    run_jobs(app)
    assert run_in(wf).status == "completed" and fresh(contact).tags == ["happened"]
    run_scheduled_jobs(app)
    run_jobs(app)
    assert fresh(contact).tags == ["happened"]
    assert steps_of(run_in(wf)) == [("w", "waiting"), ("w", "ok"), ("yes", "ok")]


def test_an_event_wait_for_a_reply(app, account):
    wf = make_workflow(account, event_wait(event="replied"))
    contact = make_contact(account, phone=PHONE)
    enroll(app, wf, [contact])
    reply(account, "hello")
    run_jobs(app)
    assert run_in(wf).status == "completed" and fresh(contact).tags == ["happened"]


def test_an_event_wait_times_out(app, account):
    wf = make_workflow(account, event_wait(event="tag_added", event_tag="vip"))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    run_scheduled_jobs(app)
    run_jobs(app)
    assert run_in(wf).status == "completed" and fresh(contact).tags == ["timed-out"]


def test_a_goal_met_while_the_timer_fires_moves_the_run_once(app, account, users):
    """The edit that meets the goal and the wait's own timer race: whichever locks the run first moves it,
    the other finds it moved on (stale seq, or a run no longer before the goal); the goal is logged once."""
    import threading

    from jobqueue import effects, runner
    from tests.factories import ApiClient

    wf = make_workflow(account, goal_flow({"goal": "tag_added", "tag": "bought"}))
    contact = make_contact(account)
    enroll(app, wf, [contact])
    run = run_in(wf)
    run_id, seq, contact_id = run.id, run.seq, contact.id
    headers = ApiClient(app.test_client(), users["admin"]).headers
    db.session.commit()  # let the threads take the database
    barrier = threading.Barrier(3)
    problems: list[str] = []

    def edit(body: dict) -> None:
        barrier.wait()
        res = app.test_client().patch(f"/api/contacts/{contact_id}", json=body, headers=headers)
        if res.status_code != 200:
            problems.append(f"{res.status_code} {res.json}")

    def timer() -> None:
        with app.app_context():
            barrier.wait()
            effects.carry_out(runner.resume(run_id, seq, "timer"))
            db.session.remove()

    threads = [threading.Thread(target=edit, args=({"tags": ["bought"]},)),
               threading.Thread(target=edit, args=({"first_name": "Racing"},)), threading.Thread(target=timer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    run_jobs(app)
    run = run_in(wf)
    assert run.status == "completed"
    assert [step for step, _ in steps_of(run)].count("goal") == 1
    assert [step for step, _ in steps_of(run)].count("s3") == 1  # (the edit replaces the tags: not read here)
