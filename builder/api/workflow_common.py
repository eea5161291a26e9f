"""What the workflow API modules share: the blueprint, the response schemas, and the helpers that
find a workflow, validate a graph, save a version and shape a workflow for the response.

A workflow deleted while contacts were still in it ("let them finish") is *retiring*: `deleted_at`
is set and it is unpublished, so it is gone from the API and the list and nothing new enters it;
the last of its runs to end removes it (builder.api.workflow_removal).
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import Select, and_, func, select

from builder.api import blueprint, fail
from builder.api.common import MAX_ID, DateTime
from builder.extensions import db
from builder.models import User, Workflow, WorkflowVersion, utcnow
from builder.workflow_stats import run_counts
from engine.graph import GraphSchema, load_graph

bp = blueprint("api_workflows", "/workflows", description="Workflows, versions, enrollment and the execution log")
GRAPH_BODY = {"required": True, "content": {"application/json": {"schema": GraphSchema}}}


class UserRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class VersionSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    created_at = DateTime()
    created_by_id = fields.Integer(allow_none=True)
    created_by = fields.Nested(UserRefSchema, allow_none=True)
    published_at = DateTime(allow_none=True)
    published_by_id = fields.Integer(allow_none=True)
    is_published = fields.Boolean(metadata={"description": "this is the live version"})


class CountsSchema(Schema):
    active = fields.Integer(metadata={"description": "live runs not finished (waiting ones included)"})
    waiting = fields.Integer(metadata={"description": "runs paused at a wait or a manual step"})
    completed = fields.Integer()


class WorkflowSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"description": "draft until a version is published"})
    trigger = fields.Dict()
    version = fields.Integer(allow_none=True, metadata={"description": "number of the latest version"})
    published_version = fields.Integer(allow_none=True)
    has_unpublished_changes = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()
    updated_by = fields.Nested(UserRefSchema, allow_none=True,
                               metadata={"description": "who saved the latest version"})
    counts = fields.Nested(CountsSchema)
    graph = fields.Dict(metadata={"description": "the requested (default: latest) version's graph"})


class WorkflowSummarySchema(WorkflowSchema):
    class Meta:
        exclude = ("graph",)


# --- finding --------------------------------------------------------------------

def retiring_clause():
    """SQL for "deleted, its last runs finishing" (see the module docstring)."""
    return Workflow.deleted_at.is_not(None)


def account_workflows(account_id: int) -> Select:
    """The account's workflows that people see (retiring ones left out)."""
    return select(Workflow).where(Workflow.account_id == account_id, ~retiring_clause())


def find_workflow(workflow_id: int) -> Workflow:
    """The caller's workflow, or 404 (another account's looks exactly like a missing one)."""
    wf = (db.session.scalar(account_workflows(g.user.account_id).where(Workflow.id == workflow_id))
          if 0 < workflow_id <= MAX_ID else None)
    if wf is None:
        fail(404, f"Workflow {workflow_id} not found.")
    return wf


def find_version(wf: Workflow, number: int) -> WorkflowVersion:
    version = db.session.scalar(select(WorkflowVersion).where(
        WorkflowVersion.workflow_id == wf.id, WorkflowVersion.number == number))
    if version is None:
        fail(404, f"Workflow {wf.id} has no version {number}.")
    return version


# --- saving ---------------------------------------------------------------------

def validated_graph(raw: Any) -> dict[str, Any]:
    """The graph normalised, or 422 with every error keyed by its path."""
    try:
        graph = load_graph(raw)
    except ValidationError as exc:
        errors: dict[str, list[str]] = exc.messages  # type: ignore[assignment]
        path, messages = next(iter(errors.items()))
        fail(422, f"{path}: {messages[0]}", errors)
    _check_users(graph)
    return graph


def graph_from_request() -> dict[str, Any]:
    raw = request.get_json(silent=True)
    if raw is None:
        fail(400, "Send the workflow graph as a JSON object.")
    return validated_graph(raw)


def _check_users(graph: dict[str, Any]) -> None:
    """assign_user may only name users of the caller's account."""
    errors: dict[str, list[str]] = {}
    for step_id, step in graph["steps"].items():
        ids = step["config"].get("user_ids") if step["type"] == "assign_user" else None
        if not ids:
            continue
        # A number no id can be is unknown without asking (SQLite cannot even bind one past 64 bits).
        candidates = [uid for uid in ids if 0 < uid <= MAX_ID]
        known = set(db.session.scalars(
            select(User.id).where(User.id.in_(candidates), User.account_id == g.user.account_id)))
        unknown = [uid for uid in ids if uid not in known]
        if unknown:
            errors[f"steps.{step_id}.config.user_ids"] = [f"Unknown user id(s): {', '.join(map(str, unknown))}."]
    if errors:
        path, messages = next(iter(errors.items()))
        fail(422, f"{path}: {messages[0]}", errors)


def new_workflow(graph: dict[str, Any]) -> Workflow:
    """A workflow whose draft version 1 is `graph` (validated); the caller commits."""
    wf = Workflow(account_id=g.user.account_id, name=graph["name"], created_by_id=g.user.id)
    db.session.add(wf)
    db.session.flush()
    save_version(wf, graph)
    return wf


def save_version(wf: Workflow, graph: dict[str, Any]) -> WorkflowVersion:
    number = (db.session.scalar(select(func.max(WorkflowVersion.number)).where(WorkflowVersion.workflow_id == wf.id))
              or 0) + 1
    version = WorkflowVersion(workflow_id=wf.id, number=number, graph=graph, created_by_id=g.user.id)
    wf.name, wf.updated_at = graph["name"], utcnow()
    db.session.add(version)
    db.session.flush()
    return version


# --- shaping the response -----------------------------------------------------------

def dump_workflows(workflows: list[Workflow], *, graph_of: WorkflowVersion | None = None) -> list[dict[str, Any]]:
    """Workflows as WorkflowSchema shapes them, read in a fixed number of queries however many there are.

    `graph_of` (one workflow only) shows that version's graph and trigger instead of the latest's.
    """
    ids = [wf.id for wf in workflows]
    if not ids:
        return []
    latest_numbers = (select(WorkflowVersion.workflow_id, func.max(WorkflowVersion.number).label("number"))
                      .where(WorkflowVersion.workflow_id.in_(ids)).group_by(WorkflowVersion.workflow_id).subquery())
    latest = {v.workflow_id: v for v in db.session.scalars(select(WorkflowVersion).join(latest_numbers, and_(
        WorkflowVersion.workflow_id == latest_numbers.c.workflow_id, WorkflowVersion.number == latest_numbers.c.number,
    )))}
    published_ids = [wf.published_version_id for wf in workflows if wf.published_version_id]
    by_id = {v.id: v for v in latest.values()}
    missing = [vid for vid in published_ids if vid not in by_id]
    if missing:
        found = db.session.scalars(select(WorkflowVersion).where(WorkflowVersion.id.in_(missing)))
        by_id.update((v.id, v) for v in found)
    authors = user_refs(v.created_by_id for v in latest.values())
    counts = run_counts(ids)
    out = []
    for wf in workflows:
        newest, published = latest.get(wf.id), by_id.get(wf.published_version_id or 0)
        shown = graph_of or newest
        out.append({
            "id": wf.id, "name": wf.name, "status": "published" if published else "draft",
            "trigger": (shown.graph if shown else {}).get("trigger", {}),
            "version": newest.number if newest else None,
            "published_version": published.number if published else None,
            "has_unpublished_changes": bool(newest and (published is None or newest.id != published.id)),
            "created_at": wf.created_at, "updated_at": wf.updated_at,
            "updated_by": authors.get(newest.created_by_id) if newest and newest.created_by_id else None,
            "counts": counts[wf.id],
            "graph": shown.graph if shown else None,
        })
    return out


def dump_workflow(wf: Workflow, version: WorkflowVersion | None = None) -> dict[str, Any]:
    return dump_workflows([wf], graph_of=version)[0]


def user_refs(user_ids) -> dict[int, dict[str, Any]]:
    ids = {uid for uid in user_ids if uid is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {uid: {"id": uid, "name": name or email} for uid, name, email in rows}
