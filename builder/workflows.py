"""Creating a workflow outside a request: demo data, fixtures, imports."""

from __future__ import annotations

from typing import Any

from builder.extensions import db
from builder.models import Workflow, WorkflowVersion, utcnow
from engine.graph import load_graph


def create_workflow(account_id: int, graph: dict[str, Any], *, author_id: int | None = None,
                    publish: bool = True) -> Workflow:
    """A new workflow whose version 1 is `graph` (validated), live at once if `publish`.

    Flushes, so the ids are there; the caller commits.
    """
    data = load_graph(graph)
    workflow = Workflow(account_id=account_id, name=data["name"], created_by_id=author_id)
    db.session.add(workflow)
    db.session.flush()
    version = WorkflowVersion(workflow_id=workflow.id, number=1, graph=data, created_by_id=author_id)
    db.session.add(version)
    db.session.flush()
    if publish:
        version.published_at, version.published_by_id = utcnow(), author_id
        workflow.published_version_id = version.id
    return workflow
