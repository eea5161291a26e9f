"""Version history: the list, restoring an old version as a new draft, a readable diff between two
versions, and what an edit would take away from contacts waiting in the published version."""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import Schema, fields
from sqlalchemy import select

from builder.api.base import fail
from builder.api.workflows.common import (
    bp,
    dump_workflow,
    find_version,
    find_workflow,
    user_refs,
)
from builder.domain import workflows
from builder.domain.access import EDITORS
from builder.domain.workflow_diff import diff_graphs
from builder.domain.workflow_stats import waiting_by_step
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import User, WorkflowVersion
from builder.schemas.fields import Number
from builder.schemas.workflows import VersionSchema, WorkflowSchema
from engine import registry

# A graph still being edited: only its step ids are read, so it need not be valid yet.
DRAFT_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["steps"],
    "properties": {"steps": {"type": "object", "description": "step id -> step (as edited, valid or not)"}},
}}}}


class DiffQuery(Schema):
    from_ = Number(strict=False, data_key="from", metadata={
        "description": "older version number; default: the one before `to`"})
    to = Number(strict=False, metadata={"description": "newer version number; default: the latest"})


class DetailSchema(Schema):
    path = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class ChangeSchema(Schema):
    kind = fields.String(metadata={"description": "added, removed or changed"})
    step_id = fields.String(allow_none=True, metadata={"description": "null for the name, trigger, start, settings"})
    summary = fields.String()
    details = fields.List(fields.Nested(DetailSchema))


class DiffSchema(Schema):
    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    changes = fields.List(fields.Nested(ChangeSchema))


class RemovedStepSchema(Schema):
    step_id = fields.String()
    name = fields.String()
    waiting = fields.Integer()


class ImpactSchema(Schema):
    removed = fields.List(fields.Nested(RemovedStepSchema))


@bp.get("/<int:workflow_id>/versions")
@bp.response(200, VersionSchema(many=True))
def list_versions(workflow_id: int):
    """Every version, newest first, with who saved it and which one is live."""
    wf = find_workflow(workflow_id)
    versions = db.session.scalars(
        select(WorkflowVersion).where(WorkflowVersion.workflow_id == wf.id).order_by(WorkflowVersion.number.desc())
    ).all()
    authors = user_refs(v.created_by_id for v in versions)
    return [{
        "id": v.id, "number": v.number, "created_at": v.created_at, "created_by_id": v.created_by_id,
        "created_by": authors.get(v.created_by_id), "published_at": v.published_at,
        "published_by_id": v.published_by_id, "is_published": v.id == wf.published_version_id,
    } for v in versions]


@bp.post("/<int:workflow_id>/versions/<int:number>/restore")
@require_role(*EDITORS)
@bp.response(200, WorkflowSchema)
def restore_version(workflow_id: int, number: int):
    """Save version `number`'s graph as a new draft (checked again: users may have left since)."""
    wf = find_workflow(workflow_id)
    workflows.save_version(wf, find_version(wf, number).graph, author_id=g.user.id)
    db.session.commit()
    return dump_workflow(wf)


@bp.get("/<int:workflow_id>/diff")
@bp.arguments(DiffQuery, location="query")
@bp.response(200, DiffSchema)
def diff(args, workflow_id: int):
    """What changed from one version to another, step by step, in sentences and field by field."""
    wf = find_workflow(workflow_id)
    if "to" in args:
        newer = find_version(wf, args["to"])
    else:
        newer = wf.latest_version()
        if newer is None:
            fail(404, f"Workflow {wf.id} has no versions.")
    older_number = args.get("from_", newer.number - 1)
    if older_number < 1:
        fail(404, f"Version {newer.number} is the first; there is nothing before it to compare with.")
    older = find_version(wf, older_number)
    names = {u.id: u.name or u.email for u in db.session.scalars(select(User).where(User.account_id == wf.account_id))}
    return {"from_": older.number, "to": newer.number, "changes": diff_graphs(older.graph, newer.graph, names)}


@bp.post("/<int:workflow_id>/impact")
@require_role(*EDITORS)
@bp.doc(requestBody=DRAFT_BODY)
@bp.response(200, ImpactSchema)
def impact(workflow_id: int):
    """Steps of the published version that this graph (a draft being edited, valid or not) removes and
    where contacts are waiting. They finish on the version they started on; the builder warns first."""
    wf = find_workflow(workflow_id)
    body = request.get_json(silent=True)
    steps = body.get("steps") if isinstance(body, dict) else None
    if not isinstance(steps, dict):
        fail(422, "steps: Send the graph being edited, with its steps.", {"steps": ["Must be an object."]})
    published = wf.published_version
    if published is None:
        return {"removed": []}
    waiting = waiting_by_step(wf.id)
    removed: list[dict[str, Any]] = []
    for step_id, step in (published.graph.get("steps") or {}).items():
        if step_id not in steps and waiting.get(step_id):
            removed.append({"step_id": step_id, "name": _step_name(step), "waiting": waiting[step_id]})
    return {"removed": removed}


def _step_name(step: dict[str, Any]) -> str:
    action = registry.get(step.get("type", ""))
    return step.get("name") or (action.label if action else step.get("type", ""))
