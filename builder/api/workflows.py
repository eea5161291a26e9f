"""Workflows: immutable versions (PUT saves a new draft), publish, duplicate, delete.

The builder's other routes live beside this module on the same blueprint: the action and trigger
catalogue (workflow_catalog), versions, diff, restore and impact (workflow_versions), enrollment,
the execution log and step stats (workflow_runs), and deleting (workflow_removal).
"""

from __future__ import annotations

from flask import g
from marshmallow import Schema
from sqlalchemy import select

from builder.access import EDITORS
from builder.api import fail
from builder.api.common import Number
from builder.api.workflow_common import (
    GRAPH_BODY,
    WorkflowSchema,
    WorkflowSummarySchema,
    account_workflows,
    bp,
    dump_workflow,
    dump_workflows,
    find_version,
    find_workflow,
    graph_from_request,
    new_workflow,
    save_version,
)
from builder.auth import require_role
from builder.extensions import db
from builder.models import Workflow, WorkflowVersion, utcnow

__all__ = ["bp"]
COPY_SUFFIX = " (copy)"
NAME_MAX = 200


@bp.get("")
@bp.response(200, WorkflowSummarySchema(many=True))
def list_workflows():
    """The account's workflows, newest first."""
    rows = db.session.scalars(account_workflows(g.user.account_id).order_by(Workflow.id.desc())).all()
    return dump_workflows(list(rows))


@bp.post("")
@require_role(*EDITORS)
@bp.doc(requestBody=GRAPH_BODY)
@bp.response(201, WorkflowSchema)
def create_workflow():
    """Create a workflow; its graph becomes draft version 1."""
    wf = new_workflow(graph_from_request())
    db.session.commit()
    return dump_workflow(wf)


class VersionQuery(Schema):
    version = Number(strict=False, metadata={"description": "show this version's graph; default the latest"})


@bp.get("/<int:workflow_id>")
@bp.arguments(VersionQuery, location="query")
@bp.response(200, WorkflowSchema)
def get_workflow(args, workflow_id: int):
    """A workflow with its latest graph (?version=N for another)."""
    wf = find_workflow(workflow_id)
    return dump_workflow(wf, find_version(wf, args["version"]) if "version" in args else None)


@bp.put("/<int:workflow_id>")
@require_role(*EDITORS)
@bp.doc(requestBody=GRAPH_BODY)
@bp.response(200, WorkflowSchema)
def save_workflow(workflow_id: int):
    """Save the graph as a new draft version; the published version keeps running."""
    wf = find_workflow(workflow_id)
    save_version(wf, graph_from_request())
    db.session.commit()
    return dump_workflow(wf)


class PublishSchema(Schema):
    version = Number(load_default=None, allow_none=True,
                     metadata={"description": "version number; default the latest"})


@bp.post("/<int:workflow_id>/publish")
@require_role(*EDITORS)
@bp.arguments(PublishSchema)
@bp.response(200, WorkflowSchema)
def publish(data, workflow_id: int):
    """Make a version the live one. Runs already under way keep the version they started on."""
    wf = find_workflow(workflow_id)
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
    return dump_workflow(wf)


@bp.post("/<int:workflow_id>/duplicate")
@require_role(*EDITORS)
@bp.response(201, WorkflowSchema)
def duplicate(workflow_id: int):
    """A new draft workflow, "<name> (copy)", with the latest graph of this one."""
    wf = find_workflow(workflow_id)
    latest = wf.latest_version()
    if latest is None:
        fail(409, "This workflow has no version to copy.")
    name = wf.name[:NAME_MAX - len(COPY_SUFFIX)] + COPY_SUFFIX
    copy = new_workflow({**latest.graph, "name": name})
    db.session.commit()
    return dump_workflow(copy)


# The other route modules attach their views to `bp` when imported.
from builder.api import workflow_catalog, workflow_removal, workflow_runs, workflow_versions  # noqa: E402, F401
