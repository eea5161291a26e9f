"""Place the calls Call steps stored, record how they ended, and resume their runs.

A call moves pending -> initiating -> (Twilio's statuses) and gets its outcome once: answered,
no_answer, busy, voicemail or failed. The pending -> initiating step is a conditional UPDATE
committed before the provider is called, so two workers never both place it and no transaction
stays open while the provider is on the line. A placement cut short (a worker killed after the
claim) stays "initiating"; the reconciler records it as failed ("unknown") instead of calling the
contact again. Twilio 429/5xx or no connection: nothing was placed, so the call goes back to
pending and is tried again after TWILIO_RETRY_DELAYS.

Call do-not-disturb is checked again when the call is placed, so a contact who asked not to be
called after the step ran is not rung.

Outcomes come from Twilio's signed status callbacks (CallStatus, AnsweredBy: see
`outcome_for`), from the console provider at once, or, when the step's time runs out first,
from asking Twilio (`check`). Recording an outcome is one conditional UPDATE (only while none is
set), so a callback and a check that race record one outcome and resume the run once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from redis import RedisError
from sqlalchemy import and_, select, update

from builder.domain.store import CALL_PENDING
from builder.extensions import db
from builder.integrations import twilio_status
from builder.integrations.providers import ProviderError, get_provider
from builder.models import Call, CallOutcome, CallStep, Contact, Enrollment, utcnow
from engine.actions.call import EVENT_PREFIX
from engine.actions.failures import may_retry, retry_delay
from engine.statuses import RunStatus
from jobqueue import job_names
from jobqueue.queues import enqueue, enqueue_at, enqueue_many

log = logging.getLogger(__name__)
PLACE = job_names.PLACE_CALLS
CHECK = job_names.CHECK_CALLS
RESUME = job_names.RESUME_ENROLLMENT
INITIATING = "initiating"
WAITING_STATUSES = (RunStatus.WAITING.value, RunStatus.PARKED.value)
LIMIT = 1000  # rows per kind per reconciler pass
# Twilio's final statuses, as outcomes; "completed" depends on who answered (outcome_for).
_FINAL = {"busy": CallOutcome.BUSY, "no-answer": CallOutcome.NO_ANSWER, "failed": CallOutcome.FAILED,
          "canceled": CallOutcome.FAILED}


def outcome_for(status: str, answered_by: str | None) -> str | None:
    """The outcome a final Twilio status means (None while the call goes on). A call answered by a
    machine (AnsweredBy machine_*, fax) is voicemail; by a person, or unknown, answered."""
    if status == "completed":
        machine = (answered_by or "").startswith(("machine", "fax"))
        return (CallOutcome.VOICEMAIL if machine else CallOutcome.ANSWERED).value
    outcome = _FINAL.get(status)
    return outcome.value if outcome else None


# --- placing ---

def place(call_ids: list[int]) -> None:
    for call_id in call_ids:
        claimed = _claim(call_id)
        if claimed is not None:
            _place(claimed)


def _claim(call_id: int) -> dict[str, Any] | None:
    now = utcnow()
    step = db.session.get(CallStep, call_id, populate_existing=True)
    if step is None or step.outcome is not None or (step.retry_at is not None and step.retry_at > now):
        db.session.commit()
        return None
    claimed = db.session.execute(update(Call).where(Call.id == call_id, Call.status == CALL_PENDING)
                                 .values(status=INITIATING, status_at=now)).rowcount
    if not claimed:
        db.session.commit()
        return None
    step.attempts += 1
    step.claimed_at = now
    row = db.session.get(Call, call_id)
    run = db.session.execute(select(Enrollment.status, Enrollment.current_step).where(
        Enrollment.id == step.enrollment_id)).one_or_none()
    dnd = db.session.scalar(select(Contact.dnd_call).where(Contact.id == row.contact_id))
    claimed_call = {"id": call_id, "account_id": row.account_id, "to": row.to_number, "bridge": step.bridge_number,
                    "whisper": step.whisper_name, "attempts": step.attempts, "contact_id": row.contact_id,
                    "max_attempts": step.max_attempts, "backoff": step.retry_backoff_seconds}
    db.session.commit()
    if run is None or run.status not in WAITING_STATUSES or run.current_step != step.step_id:
        _end(call_id, CallOutcome.FAILED, status="canceled",
             error="not placed: the run had moved on (cancelled, or its contact deleted)")
        return None
    if dnd:
        log.info("call %s to contact %s not placed: call do-not-disturb is on", call_id, row.contact_id)
        _end(call_id, CallOutcome.FAILED, status="canceled",
             error="not placed: the contact has call do-not-disturb on")
        return None
    return claimed_call


def _place(call: dict[str, Any]) -> None:
    try:
        provider = get_provider(call["account_id"])
        placed = provider.place_automated_call(call["to"], bridge_to=call["bridge"], whisper=call["whisper"],
                                               call_id=call["id"])
    except ProviderError as exc:
        # The Call step's retry policy, if it has one; else one retry per TWILIO_RETRY_DELAYS.
        delays = current_app.config.get("TWILIO_RETRY_DELAYS", [])
        if exc.retryable and may_retry(call["attempts"], call["max_attempts"], delays):
            _retry_later(call, exc, retry_delay(call["attempts"], call["backoff"], delays))
        elif exc.uncertain:
            _end(call["id"], CallOutcome.FAILED, status="unknown",
                 error=f"{exc}; not placed again, so the contact is not called twice")
        else:
            _end(call["id"], CallOutcome.FAILED, status="failed", error=str(exc))
        return
    # A status callback may have overtaken us (it finds the row by id): keep the later status.
    db.session.execute(update(Call).where(Call.id == call["id"]).values(provider=provider.name,
                                                                        provider_sid=placed.sid))
    db.session.execute(update(Call).where(Call.id == call["id"], Call.status == INITIATING)
                       .values(status=placed.status, status_at=utcnow(), error=None))
    db.session.commit()
    if placed.outcome is not None:  # the console provider: simulated, ended at once
        _end(call["id"], placed.outcome, status="completed" if placed.outcome == CallOutcome.ANSWERED else
             {"busy": "busy", "no_answer": "no-answer", "voicemail": "completed"}.get(placed.outcome, "failed"))


def _retry_later(call: dict[str, Any], exc: ProviderError, delay: int) -> None:
    when = utcnow() + timedelta(seconds=delay)
    log.warning("call %s: attempt %s refused for now (%s); retrying in %ss", call["id"], call["attempts"], exc, delay)
    db.session.execute(update(Call).where(Call.id == call["id"], Call.status == INITIATING)
                       .values(status=CALL_PENDING, status_at=utcnow(), error=str(exc)))
    db.session.execute(update(CallStep).where(CallStep.call_id == call["id"]).values(retry_at=when))
    db.session.commit()
    try:
        if delay > 0:
            enqueue_at(when, PLACE, [call["id"]])
        else:
            enqueue(PLACE, [call["id"]])
    except RedisError:
        log.exception("could not schedule the retry of call %s; the reconciler will", call["id"])


# --- outcomes ---

def _end(call_id: int, outcome: str, *, status: str | None = None, error: str | None = None,
         answered_by: str | None = None, duration: int | None = None) -> bool:
    """Record the call's outcome (only the first one counts) and resume its run; True if this one counted."""
    values: dict[str, Any] = {"outcome": str(outcome), "retry_at": None}
    if answered_by:
        values["answered_by"] = answered_by[:30]
    recorded = db.session.execute(update(CallStep).where(CallStep.call_id == call_id, CallStep.outcome.is_(None))
                                  .values(**values)).rowcount
    if recorded:
        call_values: dict[str, Any] = {"ended_at": utcnow()}
        if status:
            call_values.update(status=status, status_at=utcnow())
        if error:
            call_values["error"] = error
        if duration is not None:
            call_values["duration_seconds"] = duration
        db.session.execute(update(Call).where(Call.id == call_id).values(**call_values))
        if error:
            log.warning("call %s: %s (%s)", call_id, outcome, error)
    db.session.commit()
    if recorded:
        _resume([call_id])
    return bool(recorded)


def status_reported(account_ids: list[int], *, sid: str, call_id: int | None, twilio_status: str,
                    answered_by: str | None, duration: int | None) -> None:
    """A signed status callback (already recorded on the calls row): a final one ends an automated call."""
    target = Call.provider_sid == sid
    if call_id is not None:
        target = target | (Call.id == call_id)
    found = db.session.scalar(select(CallStep.call_id).join(Call, Call.id == CallStep.call_id).where(
        target, Call.account_id.in_(account_ids)).limit(1))
    db.session.commit()
    if found is None:
        return  # a Manual Call's call: its agent logs the outcome
    if answered_by:
        db.session.execute(update(CallStep).where(CallStep.call_id == found, CallStep.outcome.is_(None))
                           .values(answered_by=answered_by[:30]))
        db.session.commit()
    outcome = outcome_for(twilio_status, answered_by or _answered_by(found))
    if outcome is not None:
        _end(found, outcome, answered_by=answered_by, duration=duration)


def _answered_by(call_id: int) -> str | None:
    value = db.session.scalar(select(CallStep.answered_by).where(CallStep.call_id == call_id))
    db.session.commit()
    return value


def check(call_ids: list[int]) -> None:
    """The step's time ran out before an outcome came: ask the provider, else record the call as failed."""
    for call_id in call_ids:
        row = db.session.execute(select(Call.account_id, Call.provider_sid, Call.status, CallStep.answered_by)
                                 .join(CallStep, CallStep.call_id == Call.id)
                                 .where(Call.id == call_id, CallStep.outcome.is_(None))).one_or_none()
        db.session.commit()
        if row is None:
            continue
        state, why = None, "no outcome reported in time"
        if row.provider_sid and row.status != INITIATING:
            try:
                state = get_provider(row.account_id).fetch_call(row.provider_sid)
            except ProviderError as exc:
                why = f"no outcome reported in time, and asking the provider failed: {exc}"
        if state is not None:
            twilio_status.record_call_status([row.account_id], sid=row.provider_sid, twilio_status=state.status,
                                             duration=state.duration, call_id=call_id)
            outcome = outcome_for(state.status, state.answered_by or row.answered_by)
            if outcome is not None:
                _end(call_id, outcome, answered_by=state.answered_by, duration=state.duration)
                continue
            why = f"no outcome reported in time (the provider says {state.status!r})"
        if row.status == CALL_PENDING:  # never handed to the provider: it is not placed now either
            _end(call_id, CallOutcome.FAILED, status="canceled", error="not placed before the step's time ran out")
        else:
            _end(call_id, CallOutcome.FAILED, error=why)


# --- resuming ---

def _resume(call_ids: list[int]) -> int:
    """Resume the runs still waiting at their step for these ended calls."""
    rows = db.session.execute(_waiting_on_ended().where(CallStep.call_id.in_(call_ids))).all()
    db.session.commit()  # end the read before Redis is asked
    jobs = [(RESUME, (eid, seq, f"{EVENT_PREFIX}{cid}")) for cid, eid, seq, key in rows if _waits_for(key, seq)]
    try:
        enqueue_many(jobs)
    except RedisError:
        log.exception("could not resume the runs of calls %s; the reconciler will", call_ids)
    return len(jobs)


def _waits_for(key: str, seq: int) -> bool:
    """Whether a run at `seq` still waits for the call its step placed under `key` ("run:seq"): one seq
    after it while waiting for the outcome, two once the timeout has asked the provider. A later pass
    of the same step (a loop) has its own call."""
    placed = int(key.rpartition(":")[2]) if key.rpartition(":")[2].isdigit() else -10
    return placed < seq <= placed + 2


def _waiting_on_ended():
    return select(CallStep.call_id, Enrollment.id, Enrollment.seq, CallStep.idempotency_key).join(
        Enrollment, and_(Enrollment.id == CallStep.enrollment_id, Enrollment.current_step == CallStep.step_id),
    ).where(Enrollment.status.in_(WAITING_STATUSES), CallStep.outcome.is_not(None))


# --- the reconciler's part ---

def recover(cutoff) -> dict[str, int]:
    """Calls whose placing, check or resume was lost: pending ones overdue are placed; placements cut short
    are recorded as failed (never placed twice); overdue checks are asked again; ended calls whose run
    still waits resume it."""
    overdue = list(db.session.scalars(select(Call.id).join(CallStep, CallStep.call_id == Call.id).where(
        Call.status == CALL_PENDING, CallStep.outcome.is_(None),
        (CallStep.retry_at.is_(None) & (CallStep.created_at < cutoff)) | (CallStep.retry_at < cutoff)).limit(LIMIT)))
    stuck_before = cutoff - timedelta(seconds=2 * current_app.config.get("TWILIO_TIMEOUT_SECONDS", 15))
    interrupted = list(db.session.scalars(select(Call.id).join(CallStep, CallStep.call_id == Call.id).where(
        Call.status == INITIATING, CallStep.outcome.is_(None), CallStep.claimed_at < stuck_before).limit(LIMIT)))
    checks = list(db.session.scalars(select(CallStep.call_id).where(
        CallStep.outcome.is_(None), CallStep.check_requested_at < cutoff).limit(LIMIT)))
    db.session.commit()
    for call_id in interrupted:
        log.error("placing call %s was interrupted; not placed again, so the contact is not called twice", call_id)
        _end(call_id, CallOutcome.FAILED, status="unknown",
             error="placing the call was interrupted; it may or may not have gone out, and is not placed again")
    try:
        if overdue:
            enqueue(PLACE, overdue)
        if checks:
            enqueue(CHECK, checks)
    except RedisError:
        log.exception("could not re-enqueue calls; the next pass tries again")
    ended = [row[0] for row in db.session.execute(_waiting_on_ended().limit(LIMIT)).all()]
    db.session.commit()
    resumed = _resume(ended) if ended else 0
    return {"calls": len(overdue), "calls_interrupted": len(interrupted), "call_checks": len(checks),
            "call_resumes": resumed}
