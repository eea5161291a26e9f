"""Workflows: immutable versions (PUT saves a new draft), publish, duplicate, delete.

The builder's other routes live beside this module on the same blueprint: the action and trigger
catalogue (catalog), versions, diff, restore and impact (versions), enrollment, the execution log
and step stats (runs), and deleting (removal). The rules are in builder.domain.workflows.
"""

from __future__ import annotations

from flask import g
from marshmallow import Schema

from builder.api.workflows.common import (
    GRAPH_BODY,
    bp,
    dump_workflow,
    dump_workflows,
    find_version,
    find_workflow,
    graph_from_request,
)
from builder.domain import audit, workflows
from builder.domain.access import EDITORS
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import Workflow
from builder.schemas.fields import Number
from builder.schemas.workflows import WorkflowSchema, WorkflowSummarySchema

__all__ = ["bp"]


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
    wf = workflows.create_workflow(g.user.account_id, graph_from_request(), author_id=g.user.id, publish=False)
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
    workflows.save_version(wf, graph_from_request(), author_id=g.user.id)
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
    version = workflows.publish(wf, data["version"], by=g.user.id)
    audit.workflow_event(g.user, audit.WORKFLOW_PUBLISHED, wf, version=version.number)
    db.session.commit()
    return dump_workflow(wf)


@bp.post("/<int:workflow_id>/duplicate")
@require_role(*EDITORS)
@bp.response(201, WorkflowSchema)
def duplicate(workflow_id: int):
    """A new draft workflow, "<name> (copy)", with the latest graph of this one."""
    copy = workflows.duplicate(find_workflow(workflow_id), author_id=g.user.id)
    db.session.commit()
    return dump_workflow(copy)

