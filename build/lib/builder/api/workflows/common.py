"""What the workflow API modules share: the blueprint, finding the caller's workflow or version,
reading the graph from the request, and shaping a workflow for the response. The rules
(create, save, publish, remove) are in builder.domain.workflows."""

from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import and_, func, select

from builder.api.base import blueprint, fail
from builder.domain.workflow_stats import run_counts
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.models import MAX_ID, User, Workflow, WorkflowVersion
from engine.graph import GraphSchema

bp = blueprint("api_workflows", "/workflows", description="Workflows, versions, enrollment and the execution log")
GRAPH_BODY = {"required": True, "content": {"application/json": {"schema": GraphSchema}}}












# --- finding --------------------------------------------------------------------





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



def graph_from_request() -> Any:
    """The raw graph the request sent (the domain validates it)."""
    raw = request.get_json(silent=True)
    if raw is None:
        fail(400, "Send the workflow graph as a JSON object.")
    return raw








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
