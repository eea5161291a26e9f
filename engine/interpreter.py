"""Moves one enrollment through its graph: instant steps back to back, until it
waits, parks, ends or fails. Every step run writes one log row through the store.

The caller owns the transaction: effects and log rows of a pass commit together,
so a pass cut short (a killed worker) leaves nothing behind and can run again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from engine import registry
from engine.context import StepContext
from engine.graph import Graph
from engine.ports import ContactView, RunState, Store
from engine.registry import Outcome, Result
from engine.statuses import OPEN_VALUES, RunStatus
from engine.step import Step

log = logging.getLogger(__name__)

# A guard, not a limit users meet: validation rejects loops without a wait.
MAX_STEPS_PER_PASS = 1000

# Plain strings: RunState.status is a str, whichever store holds it.
ACTIVE, WAITING, PARKED = RunStatus.ACTIVE.value, RunStatus.WAITING.value, RunStatus.PARKED.value
COMPLETED, FAILED, CANCELLED = RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.CANCELLED.value
OPEN = OPEN_VALUES


def idempotency_key(run: RunState) -> str:
    return f"{run.id}:{run.seq}"


def advance(run: RunState, graph: Graph, contact: ContactView, store: Store, now: datetime) -> int:
    """Run instant steps until the run stops being active. Returns steps run."""
    ran, was_active = 0, run.status == ACTIVE
    while run.status == ACTIVE:
        if ran >= MAX_STEPS_PER_PASS:
            _finish(run, FAILED, now, f"stopped after {ran} steps in one pass (loop without a wait?)")
            break
        if _contact_gone(run, contact, store, now):
            break
        if run.current_step is None:
            _finish(run, COMPLETED, now)
            break
        step = graph.steps.get(run.current_step)
        if step is None:
            _finish(run, FAILED, now, f"step {run.current_step!r} is not in this workflow version")
            break
        result = _run_step(step, run, contact, store, now, graph.settings)
        _keep_output(run, graph, step, result)
        _apply(run, step, result, now)
        ran += 1
    if was_active and run.status == FAILED:
        _notify_failure(run, graph, contact, store)
    return ran


def resume(
    run: RunState, graph: Graph, contact: ContactView, store: Store, now: datetime, *, seq: int, event: str,
    then_advance: bool = True,
) -> bool:
    """Continue a run that waited (timer) or parked (person). Stale calls do nothing.

    `seq` is the run's seq when it paused; a resume for an older pause, or for a
    run already moved on, is ignored, so resume jobs can be delivered twice.
    With `then_advance=False` only the paused step's exit is taken: the run is left
    active at the next step, for a later pass to move on.
    """
    if run.status not in (WAITING, PARKED) or run.seq != seq:
        return False
    if _contact_gone(run, contact, store, now):
        return True
    step = graph.steps.get(run.current_step or "")
    if step is None:
        _finish(run, FAILED, now, f"step {run.current_step!r} is not in this workflow version")
        _notify_failure(run, graph, contact, store)
        return True
    run.status = ACTIVE
    result = _call(step, run, contact, store, now, lambda action, ctx: action.resume(ctx, event), graph.settings)
    _keep_output(run, graph, step, result)
    _apply(run, step, result, now)
    if run.status == FAILED:
        _notify_failure(run, graph, contact, store)
    if then_advance:
        advance(run, graph, contact, store, now)
    return True


def jump(run: RunState, graph: Graph, store: Store, now: datetime, *, seq: int, to_step: str, event: str) -> bool:
    """A goal was met (engine.goals): move an open run from wherever it is to the goal step `to_step`
    and on past it, left active for a pass to move on. What it waited on is dropped (a timer or a
    resume for the old seq is stale). Stale calls (`seq` moved on, run ended) do nothing."""
    step = graph.steps.get(to_step)
    if run.status not in OPEN or run.seq != seq or step is None:
        return False
    result = Result.go(step.next, goal_met=True, jumped_from=run.current_step, event=event)
    _log(store, run, step.id, step.type, result, now, now, 0.0, step.config)
    run.seq += 1
    run.status, run.wake_at, run.current_step = ACTIVE, None, step.next
    return True


def cancel(run: RunState, store: Store, now: datetime, reason: str) -> None:
    _stop(run, store, now, Outcome.CANCELLED, CANCELLED, reason)


def fail(run: RunState, store: Store, now: datetime, reason: str) -> None:
    """End an open run as failed from outside a step (e.g. its pass cannot be saved)."""
    _stop(run, store, now, Outcome.FAILED, FAILED, reason)


def _stop(run: RunState, store: Store, now: datetime, outcome: Outcome, status: str, reason: str) -> None:
    if run.status in OPEN:
        _log(store, run, run.current_step or "-", "-", Result(outcome, error=reason), now, now)
        run.seq += 1
        _finish(run, status, now, reason)


def _contact_gone(run: RunState, contact: ContactView, store: Store, now: datetime) -> bool:
    if contact.deleted_at is None:
        return False
    cancel(run, store, now, "the contact was deleted")
    return True


def _run_step(step: Step, run: RunState, contact: ContactView, store: Store, now: datetime,
              settings: dict) -> Result:
    return _call(step, run, contact, store, now, lambda action, ctx: action.run(ctx), settings)


def _call(step: Step, run: RunState, contact: ContactView, store: Store, now: datetime, fn,
          settings: dict) -> Result:
    key = idempotency_key(run)
    ctx = StepContext(run=run, step=step, contact=contact, store=store, now=now, key=key, settings=settings)
    started = time.perf_counter()
    try:
        result = fn(registry.action_for(step), ctx)
        if not isinstance(result, Result):
            raise TypeError(f"the {step.type} handler returned {type(result).__name__}, not a Result")
    except Exception as exc:  # a handler bug must fail this run, not the whole batch
        log.exception("step %s (%s) of enrollment %s failed", step.id, step.type, run.id)
        result = Result(Outcome.FAILED, error=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    _log(store, run, step.id, step.type, result, now, now + timedelta(seconds=seconds), seconds, step.config)
    run.seq += 1
    return result


def _keep_output(run: RunState, graph: Graph, step: Step, result: Result) -> None:
    """Keep on the run the fields of this step's output that later steps read ({{ steps.<id>.<field> }}),
    saved with the run in the transaction of the step's log row. Only a finished step's output counts:
    a step that parks or waits (a webhook, a call, an email held for its window) is done, with its
    final output, when it resumes."""
    wanted = graph.kept_outputs.get(step.id)
    if not wanted:
        return
    if result.outcome == Outcome.FAILED and _failure_exit(step):
        kept = {"error": result.error} if "error" in wanted else {}  # read by the steps after "On failure"
    elif result.outcome in (Outcome.OK, Outcome.SKIPPED):
        kept = {name: value for name, value in result.output.items() if name in wanted}
    else:
        return
    run.vars = {**(run.vars or {}), step.id: kept}  # a new dict: JSON columns do not see in-place changes


def _apply(run: RunState, step: Step, result: Result, now: datetime) -> None:
    match result.outcome:
        case Outcome.OK | Outcome.SKIPPED:
            run.current_step = result.next
        case Outcome.WAITING:
            run.status, run.wake_at = WAITING, result.wake_at
        case Outcome.PARKED:
            run.status = PARKED
        case Outcome.ENDED:
            _finish(run, COMPLETED, now)
        case Outcome.FAILED if _failure_exit(step):
            run.current_step = _failure_exit(step)  # logged as failed; the run goes on at "On failure"
        case Outcome.FAILED:
            _finish(run, FAILED, now, f"step {step.id}: {result.error}")
        case Outcome.CANCELLED:
            _finish(run, CANCELLED, now, result.error)


def _failure_exit(step: Step) -> str | None:
    # Only the steps that reach outside have the field (engine.actions.failures); their schemas hold it.
    return step.config.get("failure_next") or None


def _notify_failure(run: RunState, graph: Graph, contact: ContactView, store: Store) -> None:
    """The workflow's "when a run fails, notify" users hear of it once per failure (the key holds the
    run's seq at the failure: a retried run that fails again is a new failure)."""
    wanted = [u for u in graph.settings.get("notify_on_failure") or [] if isinstance(u, int)]
    users = store.active_user_ids(wanted) if wanted else []
    if not users:
        return
    who = " ".join(p for p in (contact.first_name, contact.last_name) if p) or contact.phone or contact.email
    store.notify_users(run, contact, users, title=f"Workflow run failed: {graph.name}"[:200],
                       body=f"{who or f'Contact {run.contact_id}'}: {run.error or 'the run failed'}"[:2000],
                       key=f"{run.id}:failed:{run.seq}")


def _finish(run: RunState, status: str, now: datetime, error: str | None = None) -> None:
    run.status, run.wake_at, run.finished_at = status, None, now
    if error:
        run.error = error
        log.warning("enrollment %s %s: %s", run.id, status, error)


def _log(
    store: Store, run: RunState, step_id: str, step_type: str, result: Result,
    started: datetime, finished: datetime, seconds: float = 0.0, config: dict[str, Any] | None = None,
) -> None:
    store.log_step({
        "enrollment_id": run.id,
        "workflow_id": run.workflow_id,
        "version_id": run.version_id,
        "contact_id": run.contact_id,
        "step_id": step_id,
        "step_type": step_type,
        "idempotency_key": idempotency_key(run),
        "input": config or {},
        "outcome": result.outcome.value,
        "output": {**result.output, **({"next": result.next} if result.next else {})},
        "error": result.error,
        "is_test": run.is_test,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": round(seconds * 1000, 3),
    })
