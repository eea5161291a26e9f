"""Text Formatter -> Math Operation -> Update Contact Field, end to end: a workflow saved and published through
the API, a contact created through the API starts it, RQ runs it; the builder's counters count each step a run
passed, and a bad value stops the run at the math step with the reason in the log."""

from __future__ import annotations

from sqlalchemy import select

from builder.extensions import db
from builder.models import Contact, Enrollment, ExecutionLog
from tests.factories import run_jobs

GRAPH = {
    "name": "Credit from the order note",
    "trigger": {"type": "contact_created", "config": {}},
    "start": "f",
    "steps": {
        "f": {"type": "text_formatter", "config": {"operation": "extract_number", "text": "{{ contact.custom.note }}"},
              "next": "m"},
        "m": {"type": "math_operation", "config": {"operation": "multiply", "value": "{{ steps.f.value }}",
                                                   "operand": "0.1"}, "next": "u"},
        "u": {"type": "update_contact_field", "config": {"field": "custom.credit",
                                                         "value": "${{ steps.m.value }} credit"}, "next": None},
    },
}


def test_formatter_then_math_then_a_field_through_the_queue(app, as_user):
    api = as_user("manager")
    created = api.post("/api/workflows", json=GRAPH)
    assert created.status_code == 201, created.json
    workflow_id = created.json["id"]
    assert api.post(f"/api/workflows/{workflow_id}/publish", json={}).status_code == 200

    paid = api.post("/api/contacts", json={"first_name": "Ada", "phone": "+14155551000",
                                           "custom_fields": {"note": "Paid $1,250.50 on Monday"}})
    unpaid = api.post("/api/contacts", json={"first_name": "Bob", "phone": "+14155551001",
                                             "custom_fields": {"note": "Will pay next week"}})
    assert paid.status_code == unpaid.status_code == 201
    run_jobs(app)

    credit = {c.first_name: c.custom_fields.get("credit") for c in db.session.scalars(select(Contact))}
    assert credit == {"Ada": "$125.05 credit", "Bob": None}
    runs = {r.contact_id: r for r in db.session.scalars(select(Enrollment))}
    assert runs[paid.json["id"]].status == "completed"
    stopped = runs[unpaid.json["id"]]
    assert stopped.status == "failed" and stopped.error == "step m: the value is empty (from '{{ steps.f.value }}')"
    rows = db.session.scalars(select(ExecutionLog).where(ExecutionLog.contact_id == unpaid.json["id"])
                              .order_by(ExecutionLog.id))
    assert [(r.step_id, r.outcome) for r in rows] == [("f", "ok"), ("m", "failed")]

    stats = api.get(f"/api/workflows/{workflow_id}/stats").json["steps"]
    assert stats == {"f": {"waiting": 0, "passed": 2}, "m": {"waiting": 0, "passed": 1},
                     "u": {"waiting": 0, "passed": 1}}
