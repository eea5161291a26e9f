"""Workflow templates: ready workflows to start from, and the account's own.

Built-in templates are the JSON files in `starter_workflows/` (`{"name", "description", "order", "graph"}`,
the slug is the file name), addressed as "builtin:<slug>". An account template is a workflow an admin
saved (`WorkflowTemplate`), addressed by its id; its graph is kept as an export writes it (users by email).
Either becomes a new draft through the import path (builder.domain.workflow_transfer), so users are
mapped and what could not be is reported the same way.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from builder.domain import workflows
from builder.domain.errors import Invalid, NotFound
from builder.domain.workflow_transfer import (
    FORMAT,
    FORMAT_VERSION,
    Imported,
    account_directory,
    account_emails,
    export_graph,
    import_document,
)
from builder.extensions import db
from builder.models import MAX_ID, Workflow, WorkflowTemplate
from engine import registry
from engine.graph import Graph

STARTERS = Path(__file__).with_name("starter_workflows")
BUILTIN = "builtin:"
NAME_MAX = 200
DESCRIPTION_MAX = 500
SUMMARY_STEPS = 8  # the gallery card lists at most this many steps


# --- reading ---------------------------------------------------------------------------------

@cache
def builtin_templates() -> dict[str, dict[str, Any]]:
    """slug -> the built-in template, in gallery order (read once: the files ship with the code)."""
    found = []
    for path in STARTERS.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found.append((data.get("order", 100), path.stem, data))
    return {slug: data for _, slug, data in sorted(found, key=lambda item: item[:2])}


def step_summary(graph: dict[str, Any]) -> list[str]:
    """The pattern's steps as the gallery shows them: each step's type label, from the start, breadth first."""
    parsed = Graph.from_dict(graph)
    seen: list[str] = []
    queue = [parsed.start] if parsed.start in parsed.steps else []
    while queue and len(seen) < SUMMARY_STEPS:
        step_id = queue.pop(0)
        if step_id in seen:
            continue
        seen.append(step_id)
        queue.extend(parsed.successors(step_id))
    return [registry.action_for(parsed.steps[sid]).label for sid in seen]


def _card(template_id: str | int, kind: str, name: str, description: str, graph: dict[str, Any],
          **extra: Any) -> dict[str, Any]:
    return {"id": template_id, "kind": kind, "name": name, "description": description,
            "trigger": graph.get("trigger") or {}, "steps": step_summary(graph), **extra}


def list_templates(account_id: int) -> list[dict[str, Any]]:
    """The built-in templates, then the account's own (newest first)."""
    cards = [_card(f"{BUILTIN}{slug}", "builtin", t["name"], t.get("description", ""), t["graph"])
             for slug, t in builtin_templates().items()]
    own = db.session.scalars(select(WorkflowTemplate).where(WorkflowTemplate.account_id == account_id)
                             .order_by(WorkflowTemplate.id.desc()))
    return cards + [card(t) for t in own]


def card(template: WorkflowTemplate) -> dict[str, Any]:
    """An account template as the gallery shows it."""
    return _card(template.id, "account", template.name, template.description, template.graph,
                 created_at=template.created_at)


def find_account_template(account_id: int, template_id: int) -> WorkflowTemplate:
    """The account's template; another account's is as missing as one that never was."""
    found = db.session.scalar(select(WorkflowTemplate).where(
        WorkflowTemplate.id == template_id, WorkflowTemplate.account_id == account_id)) \
        if 0 < template_id <= MAX_ID else None
    if found is None:
        raise NotFound(f"Template {template_id} not found.")
    return found


def _template_graph(account_id: int, ref: str | int) -> tuple[str, dict[str, Any]]:
    """(name, graph in export form) of "builtin:<slug>" or an account template's id."""
    if isinstance(ref, str) and ref.startswith(BUILTIN):
        template = builtin_templates().get(ref.removeprefix(BUILTIN))
        if template is None:
            raise NotFound(f"There is no built-in template {ref!r}.")
        return template["name"], template["graph"]
    if isinstance(ref, str) and ref.isdigit():
        ref = int(ref)
    if not isinstance(ref, int) or isinstance(ref, bool):
        raise Invalid.at({"template": ['Give "builtin:<name>" or the id of one of your account\'s templates.']})
    own = find_account_template(account_id, ref)
    return own.name, own.graph


# --- writing -----------------------------------------------------------------------------------

def create_from_template(account_id: int, ref: str | int, *, name: str | None,
                         author_id: int | None) -> tuple[Workflow, Imported]:
    """A new draft workflow from a template; `name` defaults to the template's."""
    template_name, graph = _template_graph(account_id, ref)
    document = {"format": FORMAT, "version": FORMAT_VERSION, "name": name or template_name, "graph": graph}
    imported = import_document(document, account_directory(account_id))
    wf = workflows.create_workflow(account_id, imported.graph, author_id=author_id, publish=False)
    return wf, imported


def save_as_template(wf: Workflow, *, name: str | None, description: str, by: int | None) -> WorkflowTemplate:
    """The workflow's latest graph as an account template (named after the workflow unless `name`)."""
    latest = wf.latest_version()
    if latest is None:
        raise NotFound("This workflow has no version to save.")
    template = WorkflowTemplate(account_id=wf.account_id, name=name or wf.name, description=description,
                                graph=export_graph(latest.graph, account_emails(wf.account_id)), created_by_id=by)
    db.session.add(template)
    db.session.flush()
    return template


def delete_template(account_id: int, template_id: int) -> None:
    db.session.delete(find_account_template(account_id, template_id))
