"""A split-test campaign end to end, through the API, the database, Redis and RQ, on SQLite and PostgreSQL.

"Spring offer" splits contacts 50/50 between two texts, waits two days, and has a goal "replied" after the
wait: a contact who answers jumps straight to it (their wait's timer goes stale, the nudge before the goal is
never added); the others get the nudge when the wait runs out and pass the goal unmet. Everyone then has
their name formatted and a renewal date worked out (run variables, read by a note), and is handed to a
second workflow, "Nurture", which this one ends for. Nothing is sent twice on the way."""

from __future__ import annotations

from sqlalchemy import func, select

import jobqueue.replies  # noqa: F401  (registers the reply reactions, as the worker does)
from builder.extensions import db
from builder.models import Contact, Enrollment, ExecutionLog, Message, Note, Workflow
from jobqueue.enroll import create_request
from tests.factories import make_contact, run_jobs, run_scheduled_jobs
from tests.jobs.test_replies import reply

TEXTS = {"a": "Hi {{ contact.first_name }}, 10% off all spring.", "b": "{{ contact.first_name }}: spring is 10% off."}


def campaign(nurture_id: int) -> dict:
    return {
        "name": "Spring offer",
        "trigger": {"type": "manual", "config": {}},
        "start": "split",
        "steps": {
            "split": {"type": "split", "config": {"paths": [
                {"name": "Text A", "percent": 50, "next": "a"}, {"name": "Text B", "percent": 50, "next": "b"}]}},
            "a": {"type": "send_sms", "config": {"message": TEXTS["a"]}, "next": "wait"},
            "b": {"type": "send_sms", "config": {"message": TEXTS["b"]}, "next": "wait"},
            "wait": {"type": "wait", "config": {"amount": 2, "unit": "days"}, "next": "nudge"},
            "nudge": {"type": "add_tag", "config": {"tag": "no-reply"}, "next": "goal"},
            "goal": {"type": "goal_event", "config": {"goal": "replied", "if_not_met": "continue"}, "next": "name"},
            "name": {"type": "text_formatter", "config": {"operation": "title", "text": "{{ contact.first_name }}"},
                     "next": "renewal"},
            "renewal": {"type": "math_operation", "config": {"operation": "date_add", "value": "2026-03-01",
                                                             "amount": "30", "unit": "days"}, "next": "note"},
            "note": {"type": "add_note", "config": {"body": "{{ steps.name.value }} renews {{ steps.renewal.value }}"},
                     "next": "hand"},
            "hand": {"type": "add_to_workflow", "config": {"workflow_id": nurture_id, "end_this_workflow": True},
                     "next": None},
        },
    }


NURTURE = {"name": "Nurture", "trigger": {"type": "manual", "config": {}}, "start": "t",
           "steps": {"t": {"type": "add_tag", "config": {"tag": "nurtured"}, "next": None}}}


def published(api, graph: dict) -> int:
    created = api.post("/api/workflows", json=graph)
    assert created.status_code == 201, created.json
    published = api.post(f"/api/workflows/{created.json['id']}/publish", json={})
    assert published.status_code == 200, published.json
    return created.json["id"]


def runs_of(workflow_id: int) -> dict[int, Enrollment]:
    db.session.expire_all()
    runs = db.session.scalars(select(Enrollment).where(Enrollment.workflow_id == workflow_id))
    return {r.contact_id: r for r in runs}


def path_of(run: Enrollment) -> str:
    return db.session.scalar(select(ExecutionLog.output["path"].as_string())
                             .where(ExecutionLog.enrollment_id == run.id, ExecutionLog.step_id == "split"))


def steps_of(run: Enrollment) -> list[str]:
    return list(db.session.scalars(select(ExecutionLog.step_id).where(ExecutionLog.enrollment_id == run.id)
                                   .order_by(ExecutionLog.id)))


def test_a_split_campaign_with_a_reply_goal_hands_every_contact_on_once(app, account, as_user):
    api = as_user("manager")
    nurture_id = published(api, NURTURE)
    offer_id = published(api, campaign(nurture_id))
    contacts = [make_contact(account, first_name=f"lead{i:02d}", phone=f"+1415555{1000 + i:04d}") for i in range(20)]
    ids = [c.id for c in contacts]
    offer = db.session.get(Workflow, offer_id)
    create_request(offer, offer.published_version, ids, is_test=False)
    run_jobs(app)

    # Split 50/50: both texts went out, each contact got the one of its path, exactly once.
    runs = runs_of(offer_id)
    assert {r.status for r in runs.values()} == {"waiting"} and len(runs) == 20
    paths = {cid: path_of(run) for cid, run in runs.items()}
    assert set(paths.values()) == {"Text A", "Text B"}
    sent = {m.contact_id: m.body for m in db.session.scalars(select(Message).where(Message.direction == "outbound"))}
    assert len(sent) == 20
    for contact in contacts:
        opening = "Hi " if paths[contact.id] == "Text A" else f"{contact.first_name}: "
        assert sent[contact.id].startswith(opening), (paths[contact.id], sent[contact.id])
    stats = api.get(f"/api/workflows/{offer_id}/stats").json["steps"]
    assert sum(stats["split"]["paths"].values()) == 20 and stats["wait"]["waiting"] == 20

    # The first eight answer: the goal meets them where they wait and they jump ahead.
    repliers = contacts[:8]
    for contact in repliers:
        reply(account, "Sounds good", phone=contact.phone)
    run_jobs(app)
    # The two days run out for the rest.
    run_scheduled_jobs(app)
    run_jobs(app)

    runs = runs_of(offer_id)
    assert {r.status for r in runs.values()} == {"completed"}
    for contact in contacts:
        answered = contact in repliers
        expected = (["split", "a" if paths[contact.id] == "Text A" else "b", "wait"]
                    + ([] if answered else ["wait", "nudge"])  # the timer's resume logs the wait again
                    + ["goal", "name", "renewal", "note", "hand"])
        assert steps_of(runs[contact.id]) == expected, contact.first_name
        db.session.refresh(contact)
        assert ("no-reply" in contact.tags) is not answered
        assert "nurtured" in contact.tags
    goal_rows = db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "goal"))
    met = {row.contact_id for row in goal_rows if row.output.get("goal_met")}
    assert met == {c.id for c in repliers}

    notes = {n.contact_id: n.body for n in db.session.scalars(select(Note))}
    assert notes == {c.id: f"Lead{c.first_name[4:]} renews 2026-03-31" for c in contacts}
    handed = runs_of(nurture_id)
    assert set(handed) == set(ids) and {r.status for r in handed.values()} == {"completed"}

    # Nothing twice: one text per contact, one note, one Nurture run, however many passes ran.
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.direction == "outbound")) == 20
    assert db.session.scalar(select(func.count()).select_from(Note)) == 20
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.deleted_at.is_(None))) == 20
