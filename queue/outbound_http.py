"""Send the requests Webhook and Slack steps stored, then resume their runs.

A request moves queued -> sending -> succeeded | failed (or cancelled, when its run moved on
before it went out). The queued -> sending step is a conditional UPDATE committed before
anything goes on the line, so one worker sends each attempt and no transaction (on SQLite: the
write lock) stays open during the request.

Every attempt carries the same Idempotency-Key (the step run's key) and a fresh timestamp and
signature. A connection error, a timeout, 429 or 5xx is retried after WEBHOOK_RETRY_DELAYS
(a Retry-After up to WEBHOOK_MAX_RETRY_AFTER_SECONDS is honoured instead) while the step's
attempts last; any other answer outside 2xx fails the request at once (redirects are not
followed). Delivery is at least once: an attempt cut short (a worker killed mid-send) is found
by the reconciler and sent again with the same key, so receivers that keep the keys they have
seen drop the repeat.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import current_app
from redis import RedisError
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from builder.extensions import db
from builder.integrations import outbound, outbound_transport
from builder.models import Enrollment, OutboundRequest, OutboundStatus, utcnow
from engine.actions.failures import retry_delay
from engine.actions.webhook import EVENT_PREFIX, TIMEOUT_MAX
from engine.statuses import RunStatus
from jobqueue import job_names
from jobqueue.queues import enqueue, enqueue_at, enqueue_many

log = logging.getLogger(__name__)
SEND = job_names.SEND_OUTBOUND_REQUESTS
RESUME = job_names.RESUME_ENROLLMENT
QUEUED, SENDING = OutboundStatus.QUEUED.value, OutboundStatus.SENDING.value
SUCCEEDED, FAILED = OutboundStatus.SUCCEEDED.value, OutboundStatus.FAILED.value
CANCELLED = OutboundStatus.CANCELLED.value
KEPT_HEADERS = ("content-type", "content-length", "date", "location", "retry-after", "x-request-id", "request-id")
EXCERPT = 200
LIMIT = 1000  # rows per kind per reconciler pass


class Retryable(Exception):
    def __init__(self, reason: str, retry_after: int | None = None, response: dict[str, Any] | None = None,
                 status: int | None = None):
        super().__init__(reason)
        self.retry_after, self.response, self.status = retry_after, response, status


class Permanent(Exception):
    def __init__(self, reason: str, response: dict[str, Any] | None = None, status: int | None = None):
        super().__init__(reason)
        self.response, self.status = response, status


def send(request_ids: list[int]) -> None:
    for request_id in request_ids:
        claimed = _claim(request_id)
        if claimed is None:  # done, being sent, not due yet, or its run moved on
            continue
        _attempt(claimed)


# --- one attempt ---

def _claim(request_id: int) -> dict[str, Any] | None:
    """Take the request for one attempt and read all it needs, in one short transaction."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboundRequest).where(OutboundRequest.id == request_id, OutboundRequest.status == QUEUED,
                                      or_(OutboundRequest.retry_at.is_(None), OutboundRequest.retry_at <= now))
        .values(status=SENDING, claimed_at=now, attempts=OutboundRequest.attempts + 1)
    ).rowcount
    if not claimed:
        db.session.commit()
        return None
    row = db.session.scalars(select(OutboundRequest).where(OutboundRequest.id == request_id)
                             .execution_options(populate_existing=True)).one()
    if not _waits_for(row):
        row.status, row.finished_at = CANCELLED, now
        row.error = "not sent: the run had moved on (cancelled, or its contact deleted)"
        db.session.commit()
        return None
    request = {c: getattr(row, c) for c in ("id", "account_id", "enrollment_id", "step_id", "kind", "method", "url",
                                            "headers", "body", "content_type", "timeout_seconds", "max_attempts",
                                            "retry_backoff_seconds", "idempotency_key", "attempts")}
    try:
        request["secret"] = outbound.signing_secret(row.account_id)
        if row.kind == "slack":
            request["url"] = outbound.slack_url(row.account_id)
    except outbound.UnreadableSecret as exc:
        request["problem"] = str(exc)
    db.session.commit()
    return request


def _waits_for(row: OutboundRequest) -> bool:
    """Whether the row's run still waits at its step (a cancelled run, or a deleted contact's, does not)."""
    run = db.session.execute(select(Enrollment.status, Enrollment.current_step).where(
        Enrollment.id == row.enrollment_id)).one_or_none()
    return run is not None and run.status == RunStatus.PARKED.value and run.current_step == row.step_id


def _attempt(request: dict[str, Any]) -> None:
    try:
        result = _call(request)
    except Retryable as exc:
        _retry_or_fail(request, exc)
    except Permanent as exc:
        _finish(request, FAILED, error=str(exc), status=exc.status, response=exc.response)
    else:
        _finish(request, SUCCEEDED, status=result["status"], response=result["response"])


def _call(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("problem"):
        raise Permanent(request["problem"])
    if not request["url"]:
        raise Permanent("no Slack incoming-webhook URL is set (Settings > Integrations)")
    body = (request["body"] or "").encode()
    timestamp = str(int(time.time()))
    headers = {name: value for name, value in request["headers"]}
    if request["content_type"] and not any(n.lower() == "content-type" for n in headers):
        headers["Content-Type"] = request["content_type"]
    headers[outbound.IDEMPOTENCY_HEADER] = request["idempotency_key"]
    headers[outbound.TIMESTAMP_HEADER] = timestamp
    headers[outbound.SIGNATURE_HEADER] = outbound.signature(request["secret"], timestamp, body)
    timeout = request["timeout_seconds"]
    try:
        response = outbound_transport.send(request["method"], request["url"], headers, body, timeout)
    except outbound.DestinationRefused as exc:
        raise Permanent(f"refused: {exc}") from exc
    except requests.Timeout as exc:
        raise Retryable(f"no answer within {timeout} seconds") from exc
    except requests.ConnectionError as exc:
        raise Retryable(f"could not connect: {_short(str(exc))}") from exc
    except (requests.RequestException, ValueError) as exc:  # a header or URL requests will not send
        raise Permanent(f"{type(exc).__name__}: {_short(str(exc))}") from exc
    kept = _response(response)
    status = response.status
    if 200 <= status < 300:
        return {"status": status, "response": kept}
    why = f"HTTP {status}: {_excerpt(response.body)}"
    if status == 429 or status >= 500:
        raise Retryable(why, _retry_after(response.headers.get("retry-after")), kept, status)
    if 300 <= status < 400:
        why = f"HTTP {status}: redirects are not followed (Location: {response.headers.get('location', '-')[:200]})"
    raise Permanent(why, kept, status)


def _retry_or_fail(request: dict[str, Any], exc: Retryable) -> None:
    attempts = request["attempts"]
    if attempts >= request["max_attempts"]:
        reason = f"{exc} (after {attempts} attempt{'s' if attempts > 1 else ''})"
        _finish(request, FAILED, error=reason, status=exc.status, response=exc.response)
        return
    # The step's exponential backoff when it sets one; else WEBHOOK_RETRY_DELAYS.
    defaults = current_app.config.get("WEBHOOK_RETRY_DELAYS") or [0]
    delay = retry_delay(attempts, request["retry_backoff_seconds"], defaults)
    if exc.retry_after is not None and exc.retry_after <= current_app.config.get("WEBHOOK_MAX_RETRY_AFTER_SECONDS",
                                                                                  600):
        delay = exc.retry_after  # the receiver said when; our own backoff when it asks for longer
    when = utcnow() + timedelta(seconds=delay)
    log.warning("outbound request %s: attempt %s refused for now (%s); retrying in %ss",
                request["id"], attempts, exc, delay)
    db.session.execute(update(OutboundRequest).where(OutboundRequest.id == request["id"],
                                                     OutboundRequest.status == SENDING)
                       .values(status=QUEUED, retry_at=when, error=str(exc), response_status=exc.status))
    db.session.commit()
    try:
        if delay > 0:
            enqueue_at(when, SEND, [request["id"]])
        else:
            enqueue(SEND, [request["id"]])
    except RedisError:
        log.exception("could not schedule the retry of outbound request %s; the reconciler will", request["id"])


def _finish(request: dict[str, Any], outcome: str, *, error: str | None = None, status: int | None = None,
            response: dict[str, Any] | None = None) -> None:
    """Record the request's end (`status` is the HTTP status, if an answer came) and resume its run."""
    if error:
        log.warning("outbound request %s (enrollment %s) failed: %s", request["id"], request["enrollment_id"], error)
    db.session.execute(update(OutboundRequest).where(OutboundRequest.id == request["id"],
                                                     OutboundRequest.status == SENDING).values(
        status=outcome, error=error, response=response, response_status=status, retry_at=None,
        finished_at=utcnow()))
    db.session.commit()
    _resume([request["id"]])


def _resume(request_ids: list[int]) -> int:
    """Resume the runs still parked on these finished requests."""
    rows = db.session.execute(_parked_on_finished().where(OutboundRequest.id.in_(request_ids))).all()
    db.session.commit()  # end the read before Redis is asked
    try:
        enqueue_many([(RESUME, (eid, seq, f"{EVENT_PREFIX}{rid}")) for rid, eid, seq in rows])
    except RedisError:
        log.exception("could not resume the runs of outbound requests %s; the reconciler will", request_ids)
    return len(rows)


def _parked_on_finished():
    newer = aliased(OutboundRequest)
    return select(OutboundRequest.id, Enrollment.id, Enrollment.seq).join(
        Enrollment, and_(Enrollment.id == OutboundRequest.enrollment_id,
                         Enrollment.current_step == OutboundRequest.step_id),
    ).where(
        Enrollment.status == RunStatus.PARKED.value,
        OutboundRequest.status.in_([SUCCEEDED, FAILED]),
        # Its latest request: a step passed before in a loop has older, finished ones.
        ~exists().where(newer.enrollment_id == OutboundRequest.enrollment_id, newer.id > OutboundRequest.id),
    )


# --- what the step's output shows ---

def _response(response: outbound_transport.Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
    text = response.body.decode("utf-8", errors="replace")
    body: Any = text
    if "json" in headers.get("content-type", "") and not response.truncated and text.strip():
        with contextlib.suppress(ValueError):  # not JSON after all: the text
            body = json.loads(text)
    return {"headers": headers, "body": body, "truncated": response.truncated}


def _excerpt(body: bytes) -> str:
    text = re.sub(r"\s+", " ", body.decode("utf-8", errors="replace")).strip()
    return (text[:EXCERPT] + "…" if len(text) > EXCERPT else text) or "(empty body)"


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:300] + "…"


def _retry_after(value: str | None) -> int | None:
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()))


# --- the reconciler's part ---

def recover(cutoff) -> dict[str, int]:
    """Requests whose send or resume was lost: queued ones overdue, attempts cut short (sent again with the
    same Idempotency-Key: the receiver may have had the first), finished ones whose run still waits."""
    overdue = list(db.session.scalars(select(OutboundRequest.id).where(
        OutboundRequest.status == QUEUED,
        func.coalesce(OutboundRequest.retry_at, OutboundRequest.created_at) < cutoff).limit(LIMIT)))
    # An attempt lasts at most twice its timeout (connecting, then the response).
    stuck_before = cutoff - timedelta(seconds=2 * TIMEOUT_MAX)
    interrupted = db.session.execute(
        select(OutboundRequest.id, OutboundRequest.attempts, OutboundRequest.max_attempts)
        .where(OutboundRequest.status == SENDING, OutboundRequest.claimed_at < stuck_before).limit(LIMIT)).all()
    again, ended = [], []
    for request_id, attempts, max_attempts in interrupted:
        (again if attempts < max_attempts else ended).append(request_id)
    if again:
        db.session.execute(update(OutboundRequest).where(OutboundRequest.id.in_(again),
                                                         OutboundRequest.status == SENDING).values(
            status=QUEUED, retry_at=None,
            error="an attempt was interrupted; sent again with the same Idempotency-Key"))
        log.error("outbound requests %s were interrupted mid-send; sending them again with the same key", again)
    if ended:
        db.session.execute(update(OutboundRequest).where(OutboundRequest.id.in_(ended),
                                                         OutboundRequest.status == SENDING).values(
            status=FAILED, finished_at=utcnow(),
            error="the last attempt was interrupted; the receiver may or may not have it"))
    db.session.commit()
    try:
        if overdue or again:
            enqueue(SEND, overdue + again)
    except RedisError:
        log.exception("could not re-enqueue outbound requests; the next pass tries again")
    finished = [rid for rid, _, _ in db.session.execute(_parked_on_finished().limit(LIMIT)).all()]
    resumed = _resume(finished) if finished else 0
    return {"outbound_requests": len(overdue) + len(again), "outbound_interrupted": len(again) + len(ended),
            "outbound_resumes": resumed}
