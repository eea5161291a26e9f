"""Workflows: immutable versions (PUT saves a new draft), publish, enroll, the log."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from builder.api import blueprint, fail
from builder.auth import require_role
from builder.extensions import db
from builder.models import BulkEnrollment, ExecutionLog, User, Workflow, WorkflowVersion, utcnow
from builder.reports import workflow_summaries
from engine import registry
from engine.graph import GraphSchema, load_graph
from jobqueue import enroll

bp = blueprint("api_workflows", "/workflows", description="Workflows, versions, enrollment and the execution log")
EDITORS = ("admin", "manager")
GRAPH_BODY = {"required": True, "content": {"application/json": {"schema": GraphSchema}}}


class VersionSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    published_by_id = fields.Integer(allow_none=True)


class WorkflowSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"description": "draft until a version is published"})
    trigger = fields.Dict()
    version = fields.Integer(metadata={"description": "number of the latest version"})
    published_version = fields.Integer(allow_none=True)
    has_unpublished_changes = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    graph = fields.Dict(metadata={"description": "the requested (default: latest) version's graph"})


class WorkflowSummarySchema(WorkflowSchema):
    class Meta:
        exclude = ("graph",)


class DripSchema(Schema):
    batch_size = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    interval_seconds = fields.Integer(required=True, validate=validate.Range(min=0, max=30 * 86400))


class EnrollRequestSchema(Schema):
    contact_ids = fields.List(fields.Integer(strict=True), required=True, validate=validate.Length(min=1, max=100_000))
    test = fields.Boolean(load_default=False)
    drip = fields.Nested(DripSchema, load_default=None, allow_none=True)


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
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    status_url = fields.Method("_status_url")

    def _status_url(self, bulk: BulkEnrollment) -> str:
        return url_for("api_workflows.enroll_status", workflow_id=bulk.workflow_id, bulk_id=bulk.id)


class ExecutionQuery(Schema):
    enrollment_id = fields.Integer()
    contact_id = fields.Integer()
    step_id = fields.String()
    outcome = fields.String()
    test = fields.Boolean()
    after_id = fields.Integer(load_default=0, metadata={"description": "return rows with a larger id (paging)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class ExecutionSchema(Schema):
    id = fields.Integer()
    enrollment_id = fields.Integer()
    contact_id = fields.Integer()
    version_id = fields.Integer()
    step_id = fields.String()
    step_type = fields.String()
    idempotency_key = fields.String()
    input = fields.Dict()
    outcome = fields.String()
    output = fields.Dict()
    error = fields.String(allow_none=True)
    is_test = fields.Boolean()
    started_at = fields.DateTime()
    finished_at = fields.DateTime()
    duration_ms = fields.Float()


class ActionTypeSchema(Schema):
    type = fields.String()
    label = fields.String()
    category = fields.String()
    description = fields.String()
    pauses = fields.Boolean()


# --- helpers -------------------------------------------------------------

def _workflow(workflow_id: int) -> Workflow:
    wf = db.session.get(Workflow, workflow_id)
    if wf is None or wf.account_id != g.user.account_id:
        fail(404, f"Workflow {workflow_id} not found.")
    return wf


def _graph_from_request() -> dict[str, Any]:
    raw = request.get_json(silent=True)
    if raw is None:
        fail(400, "Send the workflow graph as a JSON object.")
    try:
        graph = load_graph(raw)
    except ValidationError as exc:
        errors: dict[str, list[str]] = exc.messages  # type: ignore[assignment]
        path, messages = next(iter(errors.items()))
        fail(422, f"{path}: {messages[0]}", errors)
    _check_users(graph)
    return graph


def _check_users(graph: dict[str, Any]) -> None:
    """assign_user may only name users of the caller's account."""
    errors: dict[str, list[str]] = {}
    for step_id, step in graph["steps"].items():
        ids = step["config"].get("user_ids") if step["type"] == "assign_user" else None
        if not ids:
            continue
        known = set(db.session.scalars(select(User.id).where(User.id.in_(ids), User.account_id == g.user.account_id)))
        unknown = [uid for uid in ids if uid not in known]
        if unknown:
            errors[f"steps.{step_id}.config.user_ids"] = [f"Unknown user id(s): {', '.join(map(str, unknown))}."]
    if errors:
        path, messages = next(iter(errors.items()))
        fail(422, f"{path}: {messages[0]}", errors)


def _save_version(wf: Workflow, graph: dict[str, Any]) -> WorkflowVersion:
    number = (db.session.scalar(select(func.max(WorkflowVersion.number)).where(WorkflowVersion.workflow_id == wf.id))
              or 0) + 1
    version = WorkflowVersion(workflow_id=wf.id, number=number, graph=graph, created_by_id=g.user.id)
    wf.name, wf.updated_at = graph["name"], utcnow()
    db.session.add(version)
    return version


def _summaries() -> dict[int, dict[str, Any]]:
    return {s["id"]: s for s in workflow_summaries(g.user.account_id)}


def _dump(wf: Workflow, version: WorkflowVersion | None = None, summaries: dict | None = None) -> dict[str, Any]:
    latest = wf.latest_version()
    shown = version or latest
    published = wf.published_version
    summary = (summaries if summaries is not None else _summaries()).get(wf.id, {})
    return {
        "id": wf.id, "name": wf.name, "status": "published" if published else "draft",
        "trigger": (shown.graph if shown else {}).get("trigger", {}),
        "version": latest.number if latest else None,
        "published_version": published.number if published else None,
        "has_unpublished_changes": bool(latest and (published is None or latest.id != published.id)),
        "created_at": wf.created_at, "updated_at": wf.updated_at,
        "counts": {k: summary.get(k, 0) for k in ("active", "completed")},
        "graph": shown.graph if shown else None,
    }


# --- routes --------------------------------------------------------------

@bp.get("/action-types")
@bp.response(200, ActionTypeSchema(many=True))
def action_types():
    """Every action type the engine knows, for the builder's palette."""
    return [
        {"type": a.type, "label": a.label, "category": a.category, "description": a.description, "pauses": a.pauses}
        for a in registry.all_actions()
    ]


@bp.get("")
@bp.response(200, WorkflowSummarySchema(many=True))
def list_workflows():
    """The account's workflows, newest first."""
    rows = db.session.scalars(
        select(Workflow).where(Workflow.account_id == g.user.account_id).order_by(Workflow.id.desc())
    ).all()
    summaries = _summaries()
    return [_dump(wf, summaries=summaries) for wf in rows]


@bp.post("")
@bp.doc(requestBody=GRAPH_BODY)
@bp.response(201, WorkflowSchema)
@require_role(*EDITORS)
def create_workflow():
    """Create a workflow; its graph becomes draft version 1."""
    graph = _graph_from_request()
    wf = Workflow(account_id=g.user.account_id, name=graph["name"], created_by_id=g.user.id)
    db.session.add(wf)
    db.session.flush()
    _save_version(wf, graph)
    db.session.commit()
    return _dump(wf)


@bp.get("/<int:workflow_id>")
@bp.response(200, WorkflowSchema)
def get_workflow(workflow_id: int):
    """A workflow with its latest graph (?version=N for another)."""
    wf = _workflow(workflow_id)
    number = request.args.get("version", type=int)
    version = None
    if number is not None:
        version = db.session.scalar(select(WorkflowVersion).where(
            WorkflowVersion.workflow_id == wf.id, WorkflowVersion.number == number))
        if version is None:
            fail(404, f"Workflow {workflow_id} has no version {number}.")
    return _dump(wf, version)


@bp.put("/<int:workflow_id>")
@bp.doc(requestBody=GRAPH_BODY)
@bp.response(200, WorkflowSchema)
@require_role(*EDITORS)
def save_workflow(workflow_id: int):
    """Save the graph as a new draft version; the published version keeps running."""
    wf = _workflow(workflow_id)
    graph = _graph_from_request()
    _save_version(wf, graph)
    db.session.commit()
    return _dump(wf)


@bp.get("/<int:workflow_id>/versions")
@bp.response(200, VersionSchema(many=True))
def list_versions(workflow_id: int):
    wf = _workflow(workflow_id)
    return db.session.scalars(
        select(WorkflowVersion).where(WorkflowVersion.workflow_id == wf.id).order_by(WorkflowVersion.number.desc())
    ).all()


class PublishSchema(Schema):
    version = fields.Integer(load_default=None, metadata={"description": "version number; default the latest"})


@bp.post("/<int:workflow_id>/publish")
@bp.arguments(PublishSchema)
@bp.response(200, WorkflowSchema)
@require_role(*EDITORS)
def publish(data, workflow_id: int):
    """Make a version the live one. Runs already under way keep the version they started on."""
    wf = _workflow(workflow_id)
    query = select(WorkflowVersion).where(WorkflowVersion.workflow_id == wf.id)
    if data["version"] is not None:
        query = query.where(WorkflowVersion.number == data["version"])
    version = db.session.scalar(query.order_by(WorkflowVersion.number.desc()).limit(1))
    if version is None:
        fail(404, "No such version to publish.")
    if version.published_at is None:
        version.published_at, version.published_by_id = utcnow(), g.user.id
    wf.published_version_id, wf.updated_at = version.id, utcnow()
    db.session.commit()
    return _dump(wf)


@bp.post("/<int:workflow_id>/enroll")
@bp.arguments(EnrollRequestSchema)
@bp.response(202, BulkSchema)
@require_role(*EDITORS)
def enroll_contacts(data, workflow_id: int):
    """Enroll contacts (answers at once; batches run on the workers, drip-spaced if asked).

    Only the published version enrolls, except test runs, which use the latest
    version, draft or not, and mark everything they produce as test data.
    """
    wf = _workflow(workflow_id)
    version = wf.latest_version() if data["test"] else wf.published_version
    if version is None:
        fail(409, "Publish the workflow before enrolling contacts (or send test: true to try the draft).")
    drip = data["drip"] or {}
    bulk = enroll.create_request(
        wf, version, data["contact_ids"], is_test=data["test"], batch_size=drip.get("batch_size"),
        interval_seconds=drip.get("interval_seconds", 0), user_id=g.user.id,
    )
    return bulk


@bp.get("/<int:workflow_id>/enroll/<int:bulk_id>")
@bp.response(200, BulkSchema)
def enroll_status(workflow_id: int, bulk_id: int):
    """Progress of an enroll request."""
    wf = _workflow(workflow_id)
    bulk = db.session.get(BulkEnrollment, bulk_id)
    if bulk is None or bulk.workflow_id != wf.id:
        fail(404, f"Enroll request {bulk_id} not found.")
    return bulk


@bp.get("/<int:workflow_id>/executions")
@bp.arguments(ExecutionQuery, location="query")
@bp.response(200, ExecutionSchema(many=True))
@require_role(*EDITORS)
def executions(args, workflow_id: int):
    """The execution log: one row per step run, oldest first; page with after_id."""
    wf = _workflow(workflow_id)
    query = select(ExecutionLog).where(ExecutionLog.workflow_id == wf.id, ExecutionLog.id > args["after_id"])
    for name in ("enrollment_id", "contact_id", "step_id", "outcome"):
        if name in args:
            query = query.where(getattr(ExecutionLog, name) == args[name])
    if "test" in args:
        query = query.where(ExecutionLog.is_test.is_(args["test"]))
    return db.session.scalars(query.order_by(ExecutionLog.id).limit(args["limit"])).all()
