"""Workflows handing contacts to each other: Add to Workflow and Remove from Workflow.

Run time (called by the engine's SqlStore, in the pass's transaction):
- `add_to_workflow` enrolls a contact in another published workflow by the rules triggers and manual
  enrollment follow (builder.domain.enrollment, jobqueue.enroll): the target's re-entry setting, at most
  one open run per contact and workflow (the partial unique index settles races). The new run's
  source key is the step run's idempotency key, so a pass taken twice enrolls once. A test run enrolls
  a test run (the target's published version, effects marked as test), never a live one.
- `end_runs` ends other runs of the contact as cancelled: each is locked FOR UPDATE first (waiting for
  a worker that is moving it to commit; passes take runs with SKIP LOCKED, so they never wait on us),
  then cancelled by the engine (a log row naming the reason), and its queued manual actions leave the
  queue, as when the contact replies to a stop-on-response workflow (jobqueue.replies).

Save and publish (builder.domain.workflows):
- a workflow may not add contacts to itself, nor list itself among those to remove from (422);
- publishing refuses a chain of published workflows that would hand a contact round in a loop with no
  wait on the way (A adds to B, B adds to A), read from the other workflows' published graphs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from builder.domain.errors import Invalid
from builder.models import (
    OPEN_STATUSES,
    Enrollment,
    ManualAction,
    ManualActionStatus,
    Workflow,
    WorkflowVersion,
    utcnow,
)
from engine import interpreter, registry
from engine.graph import Graph
from engine.ports import Store

ADD, REMOVE = "add_to_workflow", "remove_from_workflow"
OPEN = [s.value for s in OPEN_STATUSES]


def source_key(key: str) -> str:
    return f"handoff:{key}"[:80]


# --- run time -----------------------------------------------------------------------------------

def add_to_workflow(session: Session, account_id: int, run: Enrollment, contact_id: int, workflow_id: int,
                    key: str) -> dict[str, Any]:
    """See engine.ports.Store.add_to_workflow. The new run id (if any) is for the caller to start."""
    row = session.execute(
        select(Workflow.account_id, Workflow.name, Workflow.deleted_at, Workflow.published_version_id,
               WorkflowVersion.graph)
        .outerjoin(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.id == workflow_id)).first()
    out: dict[str, Any] = {"workflow_id": workflow_id, "workflow_name": None, "run_id": None}
    if row is None or row.account_id != account_id:
        return {**out, "error": f"workflow {workflow_id} does not exist in this account"}
    out["workflow_name"] = row.name
    if row.deleted_at is not None:
        return {**out, "error": f"workflow {row.name!r} was deleted"}
    if row.published_version_id is None or row.graph is None:
        return {**out, "error": f"workflow {row.name!r} is not published"}
    if workflow_id == run.workflow_id:  # refused on save; a guard for graphs stored before the rule
        return {**out, "error": "a workflow cannot add contacts to itself"}
    source = source_key(key)
    done = _enrolled(session, workflow_id, contact_id, source)
    if done is not None:
        return {**out, "run_id": done}
    if not run.is_test:
        refused = _refusal(session, workflow_id, contact_id, row.name, row.graph)
        if refused:
            return {**out, "reason": refused}
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = session.scalar(insert(Enrollment).values(
        account_id=account_id, workflow_id=workflow_id, version_id=row.published_version_id,
        contact_id=contact_id, status="active", current_step=row.graph.get("start"), seq=0,
        is_test=run.is_test, source_key=source, created_at=now, updated_at=now,
    ).on_conflict_do_nothing().returning(Enrollment.id))
    if new_id is None:  # another transaction enrolled the contact meanwhile (the one-open-run index)
        done = _enrolled(session, workflow_id, contact_id, source)
        return {**out, "run_id": done} if done else {**out, "reason": f"the contact is already in {row.name!r}"}
    return {**out, "run_id": new_id}


def _enrolled(session: Session, workflow_id: int, contact_id: int, source: str) -> int | None:
    return session.scalar(select(Enrollment.id).where(
        Enrollment.workflow_id == workflow_id, Enrollment.contact_id == contact_id, Enrollment.source_key == source))


def _refusal(session: Session, workflow_id: int, contact_id: int, name: str, graph: dict) -> str | None:
    """Why the target's rules keep the contact out (as enrollment._may_enter), or None."""
    live = select(Enrollment.status).where(Enrollment.workflow_id == workflow_id,
                                           Enrollment.contact_id == contact_id, Enrollment.is_test.is_(False))
    if session.scalar(live.where(Enrollment.status.in_(OPEN)).limit(1)) is not None:
        return f"the contact is already in {name!r}"
    if not (graph.get("settings") or {}).get("allow_reentry") and session.scalar(live.limit(1)) is not None:
        return f"the contact has been through {name!r} before and it does not allow re-entry"
    return None


def end_runs(session: Session, store: Store, run: Enrollment, contact_id: int, workflow_ids: list[int] | None,
             reason: str) -> tuple[list[dict[str, Any]], list[ManualAction]]:
    """See engine.ports.Store.end_runs; also returns the manual actions that left the queue."""
    query = select(Enrollment).where(
        Enrollment.account_id == run.account_id, Enrollment.contact_id == contact_id, Enrollment.id != run.id,
        Enrollment.status.in_(OPEN), Enrollment.is_test.is_(run.is_test))
    if workflow_ids is None:
        query = query.where(Enrollment.workflow_id != run.workflow_id)
    else:
        query = query.where(Enrollment.workflow_id.in_(workflow_ids))
    # Blocking FOR UPDATE, in id order: a run another worker is moving is ended once its pass commits
    # (read again then: a run it finished is no longer selected).
    others = list(session.scalars(query.order_by(Enrollment.id).with_for_update(of=Enrollment)))
    now = utcnow()
    ended = []
    for other in others:
        if other.status not in OPEN:  # moved by this very pass (same session) before it got here
            continue
        interpreter.cancel(other, store, now, reason)
        other.updated_at = now
        ended.append({"workflow_id": other.workflow_id, "run_id": other.id})
    return ended, drop_queued_actions(session, [e["run_id"] for e in ended])


def drop_queued_actions(session: Session, run_ids: list[int]) -> list[ManualAction]:
    """The runs' queued manual actions leave the queue (deleted, as for a stop-on-response run)."""
    if not run_ids:
        return []
    queued = list(session.scalars(select(ManualAction).where(
        ManualAction.enrollment_id.in_(run_ids), ManualAction.status == ManualActionStatus.QUEUED)))
    if queued:
        now = utcnow()
        session.execute(update(ManualAction).where(ManualAction.id.in_([a.id for a in queued])).values(
            status=ManualActionStatus.DELETED, deleted_at=now, updated_at=now))
    return queued


# --- save and publish ---------------------------------------------------------------------------

def check_self_reference(workflow_id: int, graph: dict[str, Any]) -> None:
    """Invalid (422 naming the step and field) when a step adds to, or removes from by choice, its own workflow."""
    errors: dict[str, list[str]] = {}
    for step_id, step in graph.get("steps", {}).items():
        config = step.get("config") or {}
        if step.get("type") == ADD and config.get("workflow_id") == workflow_id:
            errors[f"steps.{step_id}.config.workflow_id"] = [
                f"Step {step_id} adds contacts to its own workflow; choose another workflow."]
        elif step.get("type") == REMOVE and workflow_id in (config.get("workflow_ids") or []):
            errors[f"steps.{step_id}.config.workflow_ids"] = [
                f"Step {step_id} lists its own workflow; choose \"This workflow\" to end this run."]
    if errors:
        raise Invalid.at(errors)


def check_loops(session: Session, wf: Workflow, graph: dict[str, Any]) -> None:
    """Invalid when publishing `graph` as `wf`'s live version would close a loop of workflows handing
    a contact on with no wait in it; the other workflows are read as published now."""
    if not any(step.get("type") == ADD for step in graph.get("steps", {}).values()):
        return
    rows = session.execute(
        select(Workflow.id, Workflow.name, WorkflowVersion.graph)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.account_id == wf.account_id, Workflow.id != wf.id, Workflow.deleted_at.is_(None)))
    names = {wf.id: wf.name}
    graphs = {wf.id: Graph.from_dict(graph)}
    for wid, name, other in rows:
        names[wid], graphs[wid] = name, Graph.from_dict(other)
    cycle = _handoff_cycle(wf.id, graphs)
    if cycle is None:
        return
    # The Add to Workflow steps where the loop passes from one workflow to the next.
    hops = [node for i, node in enumerate(cycle) if cycle[(i + 1) % len(cycle)][0] != node[0]]
    ours = next(sid for wid, sid in hops if wid == wf.id)
    chain = " -> ".join(f"{names[wid]!r} (step {sid})" for wid, sid in hops) + f" -> {names[hops[0][0]]!r}"
    raise Invalid.at({f"steps.{ours}.config.workflow_id": [
        f"Workflows {chain} hand contacts round in a loop with no wait in it; add a wait step on the way."]})


def _handoff_cycle(workflow_id: int, graphs: dict[int, Graph]) -> list[tuple[int, str]] | None:
    """A loop through `workflow_id`'s steps made only of instant steps, following each workflow's exits and
    each Add to Workflow step to its target's start step; None when there is none."""
    def instant(node: tuple[int, str]) -> bool:
        step = graphs[node[0]].steps.get(node[1])
        action = registry.get(step.type) if step else None
        return action is not None and not action.pauses_at(step)

    def successors(node: tuple[int, str]) -> list[tuple[int, str]]:
        wid, sid = node
        graph, step = graphs[wid], graphs[wid].steps[sid]
        found = [(wid, nxt) for nxt in graph.successors(sid)]
        target = step.config.get("workflow_id") if step.type == ADD else None
        if target in graphs and target != wid and graphs[target].start in graphs[target].steps:
            found.append((target, graphs[target].start))
        return [n for n in found if instant(n)]

    state: dict[tuple[int, str], int] = {}  # 1 = on the current path, 2 = done
    path: list[tuple[int, str]] = []

    def visit(node: tuple[int, str]) -> list[tuple[int, str]] | None:
        state[node] = 1
        path.append(node)
        for nxt in successors(node):
            if state.get(nxt) == 1:
                loop = path[path.index(nxt):]
                if len({wid for wid, _ in loop}) > 1 and any(wid == workflow_id for wid, _ in loop):
                    return loop
            elif nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for sid in sorted(graphs[workflow_id].steps):
        node = (workflow_id, sid)
        if node not in state and instant(node):
            found = visit(node)
            if found:
                return found
    return None
