"""Workflows: the one path to create, save, publish, duplicate and remove one.

The API, the demo data and the tests all go through here. Every function works in
the caller's transaction (it flushes, never commits) and refuses bad input with
builder.domain.errors.

A workflow deleted while contacts were still in it ("let them finish") is *retiring*:
`deleted_at` is set and it is unpublished, so it is gone from the API and the list and
nothing new enters it; the last of its runs to end removes it (`remove_finished`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import ColumnElement, Select, delete, func, select, update

from builder.domain import workflow_handoff
from builder.domain.custom_fields import check_merge_fields
from builder.domain.custom_values import check_merge_fields as check_custom_values
from builder.domain.errors import Conflict, Invalid, NotFound
from builder.domain.workflow_stats import OPEN, open_runs
from builder.extensions import db
from builder.models import (
    MAX_ID,
    Enrollment,
    ManualAction,
    ManualActionStatus,
    Note,
    User,
    Workflow,
    WorkflowVersion,
    utcnow,
)
from engine.graph import load_graph
from engine.registry import user_fields

NAME_MAX = 200
COPY_SUFFIX = " (copy)"


def retiring_clause() -> ColumnElement[bool]:
    """SQL for "deleted, its last runs finishing" (see the module docstring)."""
    return Workflow.deleted_at.is_not(None)


def account_workflows(account_id: int) -> Select:
    """The account's workflows that people see (retiring ones left out)."""
    return select(Workflow).where(Workflow.account_id == account_id, ~retiring_clause())


def validated_graph(account_id: int, raw: Any) -> dict[str, Any]:
    """The graph normalised; Invalid with every error keyed by its path."""
    try:
        graph = load_graph(raw)
    except ValidationError as exc:
        raise Invalid.at(exc.messages) from None  # type: ignore[arg-type]
    _check_users(account_id, graph)
    check_merge_fields(account_id, graph)
    check_custom_values(account_id, graph)
    return graph


def _check_users(account_id: int, graph: dict[str, Any]) -> None:
    """Steps may only name users of the workflow's account (every config field of kind "users")."""
    errors: dict[str, list[str]] = {}
    for step_id, step in graph["steps"].items():
        for name in user_fields(step["type"]):
            ids = step["config"].get(name)
            if not ids:
                continue
            # A number no id can be is unknown without asking (SQLite cannot even bind one past 64 bits).
            candidates = [uid for uid in ids if 0 < uid <= MAX_ID]
            known = set(db.session.scalars(
                select(User.id).where(User.id.in_(candidates), User.account_id == account_id)))
            unknown = [uid for uid in ids if uid not in known]
            if unknown:
                errors[f"steps.{step_id}.config.{name}"] = [f"Unknown user id(s): {', '.join(map(str, unknown))}."]
    notify = (graph.get("settings") or {}).get("notify_on_failure") or []  # "when a run fails, notify"
    if notify:
        known = set(db.session.scalars(select(User.id).where(
            User.id.in_([uid for uid in notify if 0 < uid <= MAX_ID]), User.account_id == account_id)))
        unknown = [uid for uid in notify if uid not in known]
        if unknown:
            errors["settings.notify_on_failure"] = [f"Unknown user id(s): {', '.join(map(str, unknown))}."]
    if errors:
        raise Invalid.at(errors)


def create_workflow(account_id: int, raw_graph: Any, *, author_id: int | None = None,
                    publish: bool = True) -> Workflow:
    """A new workflow whose version 1 is the graph (validated), live at once unless publish=False."""
    graph = validated_graph(account_id, raw_graph)
    wf = Workflow(account_id=account_id, name=graph["name"], created_by_id=author_id)
    db.session.add(wf)
    db.session.flush()
    version = _add_version(wf, graph, author_id)
    if publish:
        _publish(wf, version, author_id)
    return wf


def save_version(wf: Workflow, raw_graph: Any, *, author_id: int | None) -> WorkflowVersion:
    """The graph (validated) as the workflow's next draft version; the published one keeps running."""
    graph = validated_graph(wf.account_id, raw_graph)
    workflow_handoff.check_self_reference(wf.id, graph)
    return _add_version(wf, graph, author_id)


def _add_version(wf: Workflow, graph: dict[str, Any], author_id: int | None) -> WorkflowVersion:
    number = (db.session.scalar(select(func.max(WorkflowVersion.number)).where(WorkflowVersion.workflow_id == wf.id))
              or 0) + 1
    version = WorkflowVersion(workflow_id=wf.id, number=number, graph=graph, created_by_id=author_id)
    wf.name, wf.updated_at = graph["name"], utcnow()
    db.session.add(version)
    db.session.flush()
    return version


def publish(wf: Workflow, number: int | None, *, by: int | None) -> WorkflowVersion:
    """Make version `number` (default the latest) the live one. Runs under way keep their version."""
    query = select(WorkflowVersion).where(WorkflowVersion.workflow_id == wf.id)
    if number is not None:
        query = query.where(WorkflowVersion.number == number)
    version = db.session.scalar(query.order_by(WorkflowVersion.number.desc()).limit(1))
    if version is None:
        raise NotFound("No such version to publish.")
    check_merge_fields(wf.account_id, version.graph)  # a custom field may have gone since it was saved
    check_custom_values(wf.account_id, version.graph)  # so may a custom value
    _publish(wf, version, by)
    return version


def _publish(wf: Workflow, version: WorkflowVersion, by: int | None) -> None:
    workflow_handoff.check_self_reference(wf.id, version.graph)
    workflow_handoff.check_loops(db.session, wf, version.graph)  # reads the other workflows' published graphs
    if version.published_at is None:
        version.published_at, version.published_by_id = utcnow(), by
    wf.published_version_id, wf.updated_at = version.id, utcnow()


def duplicate(wf: Workflow, *, author_id: int | None) -> Workflow:
    """A new draft workflow, "<name> (copy)", with the latest graph of this one."""
    latest = wf.latest_version()
    if latest is None:
        raise Conflict("This workflow has no version to copy.")
    name = wf.name[:NAME_MAX - len(COPY_SUFFIX)] + COPY_SUFFIX
    return create_workflow(wf.account_id, {**latest.graph, "name": name}, author_id=author_id, publish=False)


def retire(wf: Workflow) -> None:
    """Deleted while contacts are still in it: hidden, and unpublished so that triggers and enrolling
    stop; its last run to end removes it (see the module docstring)."""
    now = utcnow()
    wf.published_version_id, wf.deleted_at, wf.updated_at = None, now, now


def remove_workflow(workflow_id: int) -> list[int]:
    """Remove the workflow; returns the manual actions it deleted, to publish once committed.

    Its versions, runs, execution log and enroll requests go (the database cascades them). Messages
    and manual actions it produced stay (without the workflow); queued manual actions of runs still
    open are deleted, as nobody is waiting on them any more. Notes stay on the contact.
    """
    now = utcnow()
    open_run_ids = select(Enrollment.id).where(Enrollment.workflow_id == workflow_id, Enrollment.status.in_(OPEN))
    action_ids = list(db.session.scalars(select(ManualAction.id).where(
        ManualAction.enrollment_id.in_(open_run_ids), ManualAction.status == ManualActionStatus.QUEUED)))
    if action_ids:
        db.session.execute(update(ManualAction)
                           .where(ManualAction.id.in_(action_ids), ManualAction.status == ManualActionStatus.QUEUED)
                           .values(status=ManualActionStatus.DELETED, deleted_at=now, updated_at=now))
    # Notes keep no link to what goes (their foreign keys do not cascade): the contact keeps the note.
    db.session.execute(update(Note).where(Note.workflow_id == workflow_id).values(workflow_id=None, enrollment_id=None))
    db.session.execute(update(Workflow).where(Workflow.id == workflow_id).values(published_version_id=None))
    db.session.execute(delete(Workflow).where(Workflow.id == workflow_id))
    return action_ids


def remove_finished(workflow_ids: Iterable[int]) -> list[int]:
    """Remove the retiring workflows among these that nobody is in any more (after a pass has
    committed), and commit. Returns the ids removed."""
    ids = sorted(set(workflow_ids))
    if not ids:
        return []
    retiring = list(db.session.scalars(select(Workflow.id).where(Workflow.id.in_(ids), retiring_clause())))
    removed = [wid for wid in retiring if open_runs(wid, test=None) == 0]
    for wid in removed:
        remove_workflow(wid)
    db.session.commit()
    return removed
