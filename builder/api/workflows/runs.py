"""Runs of a workflow: enrollment (live or test), the execution log, and where contacts are."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from builder.api.base import fail
from builder.api.workflows.common import bp, find_workflow
from builder.domain import contacts as contact_rules
from builder.domain.access import EDITORS
from builder.domain.workflow_stats import step_stats
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import BulkEnrollment, Contact, ExecutionLog
from builder.schemas.fields import Flag, Id, Number, Text
from builder.schemas.timestamps import DateTime
from builder.schemas.workflows import ExecutionSchema
from jobqueue import enroll

MAX_ENROLL = 100_000  # contact ids listed in one enroll request (a body can hardly carry more)
# Contacts one enroll request by filter may match: numbered and stored by the database, never listed in Python.
MAX_ENROLL_FILTER = 1_000_000


class DripSchema(Schema):
    batch_size = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    interval_seconds = fields.Integer(required=True, validate=validate.Range(min=0, max=30 * 86400))


class EnrollFilterSchema(Schema):
    """The contacts list's filters (GET /api/contacts): every contact they match, on all pages."""

    q = Text(validate=validate.Length(max=200), metadata={"description": "words matched in name, email and phone"})
    tag = Text(validate=validate.Length(min=1, max=100))
    assigned_user_id = Id()


class EnrollRequestSchema(Schema):
    contact_ids = fields.List(Id(), validate=validate.Length(min=1, max=MAX_ENROLL))
    filter = fields.Nested(EnrollFilterSchema, metadata={
        "description": "instead of contact_ids: everyone the contacts list shows with these filters"})
    test = Flag(load_default=False)
    drip = fields.Nested(DripSchema, load_default=None, allow_none=True)

    @validates_schema
    def one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "contact_ids" in data and "filter" in data:
            raise ValidationError("Send contact_ids or a filter, not both.", "filter")
        if "contact_ids" not in data and "filter" not in data:
            raise ValidationError("Send the contacts to enroll (or a filter that finds them).", "contact_ids")


class BulkSchema(Schema):
    id = fields.Integer()
    workflow_id = fields.Integer()
    version_id = fields.Integer()
    is_test = fields.Boolean()
    total = fields.Integer()
    processed = fields.Integer()
    enrolled = fields.Integer()
    skipped = fields.Integer()
    batch_size = fields.Integer()
    interval_seconds = fields.Integer()
    created_at = DateTime()
    finished_at = DateTime(allow_none=True)
    status_url = fields.Method("_status_url")

    def _status_url(self, bulk: BulkEnrollment) -> str:
        return url_for("api_workflows.enroll_status", workflow_id=bulk.workflow_id, bulk_id=bulk.id)


class ExecutionQuery(Schema):
    enrollment_id = Id(strict=False)
    contact_id = Id(strict=False)
    step_id = fields.String()
    outcome = fields.String()
    test = fields.Boolean()
    after_id = Number(min=0, strict=False, load_default=0,
                      metadata={"description": "return rows with a larger id (paging)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))




class StatsQuery(Schema):
    test = fields.Boolean(load_default=False, metadata={"description": "count test runs (and only them)"})


class StepCountsSchema(Schema):
    waiting = fields.Integer(metadata={"description": "runs paused at the step (a wait, or a person)"})
    passed = fields.Integer(metadata={"description": "distinct runs that went through the step"})
    paths = fields.Dict(keys=fields.String(), values=fields.Integer(),
                        metadata={"description": "a Split step's runs per path taken, by path index"})


class StatsSchema(Schema):
    workflow_id = fields.Integer()
    steps = fields.Dict(keys=fields.String(), values=fields.Nested(StepCountsSchema))


@bp.post("/<int:workflow_id>/enroll")
@require_role(*EDITORS)
@bp.arguments(EnrollRequestSchema)
@bp.response(202, BulkSchema)
def enroll_contacts(data, workflow_id: int):
    """Enroll contacts (answers at once; batches run on the workers, drip-spaced if asked).

    Only the published version enrolls, except test runs, which use the latest
    version, draft or not, and mark everything they produce as test data.
    """
    wf = find_workflow(workflow_id)
    version = wf.latest_version() if data["test"] else wf.published_version
    if version is None:
        fail(409, "Publish the workflow before enrolling contacts (or send test: true to try the draft).")
    drip = data["drip"] or {}
    contacts = data["contact_ids"] if "contact_ids" in data else _matching_contacts(data["filter"])
    return enroll.create_request(
        wf, version, contacts, is_test=data["test"], batch_size=drip.get("batch_size"),
        interval_seconds=drip.get("interval_seconds", 0), user_id=g.user.id,
    )


def _matching_contacts(filters: dict[str, Any]) -> enroll.ContactQuery:
    """The contacts the list shows with these filters (and the caller may see), newest first.

    Counted in the database (up to one past the limit) and handed on as a query: the request stores
    them with one INSERT ... SELECT, so a million ids never become a Python list here.
    """
    ids = contact_rules.matching(g.user, filters).with_only_columns(Contact.id)
    matched = db.session.scalar(select(func.count()).select_from(ids.limit(MAX_ENROLL_FILTER + 1).subquery()))
    if matched > MAX_ENROLL_FILTER:
        message = f"The filter matches more than {MAX_ENROLL_FILTER:,} contacts; narrow it down."
        fail(422, f"filter: {message}", {"filter": [message]})
    # The limit again: contacts created since the count must not take the request past it.
    return enroll.ContactQuery(ids, Contact.id.desc(), limit=MAX_ENROLL_FILTER)


@bp.get("/<int:workflow_id>/enroll/<int:bulk_id>")
@bp.response(200, BulkSchema)
def enroll_status(workflow_id: int, bulk_id: int):
    """Progress of an enroll request."""
    wf = find_workflow(workflow_id)
    bulk = db.session.get(BulkEnrollment, bulk_id)
    if bulk is None or bulk.workflow_id != wf.id:
        fail(404, f"Enroll request {bulk_id} not found.")
    return bulk


@bp.get("/<int:workflow_id>/executions")
@require_role(*EDITORS)
@bp.arguments(ExecutionQuery, location="query")
@bp.response(200, ExecutionSchema(many=True))
def executions(args, workflow_id: int):
    """The execution log: one row per step run, oldest first; page with after_id."""
    wf = find_workflow(workflow_id)
    query = select(ExecutionLog).where(ExecutionLog.workflow_id == wf.id, ExecutionLog.id > args["after_id"])
    for name in ("enrollment_id", "contact_id", "step_id", "outcome"):
        if name in args:
            query = query.where(getattr(ExecutionLog, name) == args[name])
    if "test" in args:
        query = query.where(ExecutionLog.is_test.is_(args["test"]))
    return db.session.scalars(query.order_by(ExecutionLog.id).limit(args["limit"])).all()


@bp.get("/<int:workflow_id>/stats")
@require_role(*EDITORS)
@bp.arguments(StatsQuery, location="query")
@bp.response(200, StatsSchema)
def stats(args, workflow_id: int):
    """Per step: contacts waiting there and contacts that went through it (live runs; ?test=true for test runs).

    Every step of the latest version is listed, and any step of an earlier one that still has counts.
    """
    wf = find_workflow(workflow_id)
    latest = wf.latest_version()
    step_ids = list((latest.graph.get("steps") or {}) if latest else [])
    return {"workflow_id": wf.id, **step_stats(wf.id, step_ids, test=args["test"])}
