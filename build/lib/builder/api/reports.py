"""Reports: how manual calls went, per outcome, per agent and per workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, post_load
from sqlalchemy import func, select

from builder.api.base import blueprint
from builder.domain.access import visible_actions
from builder.extensions import db
from builder.models import ManualAction, ManualActionStatus, ManualActionType, User, Workflow
from builder.schemas.fields import Id

bp = blueprint("api_reports", "/reports", description="Reports")


class CallReportQuery(Schema):
    since = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "completed at or after (ISO 8601; UTC if no offset is given)"})
    until = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "completed before (ISO 8601; UTC if no offset is given)"})
    workflow_id = Id(strict=False)
    include_test = fields.Boolean(load_default=False)

    @post_load
    def naive_utc(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Stored times are naive UTC: convert (not just drop) the offset before comparing.
        for name in ("since", "until"):
            if name in data:
                data[name] = _naive_utc(data[name], name)
        return data


def _naive_utc(when: datetime, name: str) -> datetime:
    try:
        return when.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise ValidationError("That date is out of range.", name) from None


class Breakdown(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    total = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())


class CallReport(Schema):
    total = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_agent = fields.List(fields.Nested(Breakdown))
    by_workflow = fields.List(fields.Nested(Breakdown))


def _group(rows: list[tuple[Any, str, int]], names: dict[Any, str]) -> list[dict[str, Any]]:
    groups: dict[Any, dict[str, Any]] = {}
    for key, outcome, count in rows:
        group = groups.setdefault(key, {"id": key, "name": names.get(key), "total": 0, "outcomes": {}})
        group["total"] += count
        group["outcomes"][outcome] = count
    return sorted(groups.values(), key=lambda g_: (-g_["total"], g_["name"] or ""))


@bp.get("/calls")
@bp.arguments(CallReportQuery, location="query")
@bp.response(200, CallReport)
def call_report(args: dict[str, Any]):
    """Completed Manual Call actions by outcome (agents see their own calls only)."""
    calls = visible_actions(g.user).where(ManualAction.type == ManualActionType.CALL,
                                          ManualAction.status == ManualActionStatus.COMPLETED)
    if not args["include_test"]:
        calls = calls.where(ManualAction.is_test.is_(False))
    if "since" in args:
        calls = calls.where(ManualAction.completed_at >= args["since"])
    if "until" in args:
        calls = calls.where(ManualAction.completed_at < args["until"])
    if "workflow_id" in args:
        calls = calls.where(ManualAction.workflow_id == args["workflow_id"])
    done = calls.subquery()

    def counts(column):
        return db.session.execute(select(column, done.c.outcome, func.count()).group_by(column, done.c.outcome)).all()

    by_agent = counts(done.c.completed_by_id)
    by_workflow = counts(done.c.workflow_id)
    users = {u.id: u.name or u.email for u in db.session.scalars(
        select(User).where(User.id.in_({r[0] for r in by_agent if r[0]})))}
    workflows = dict(db.session.execute(
        select(Workflow.id, Workflow.name).where(Workflow.id.in_({r[0] for r in by_workflow if r[0]}))).all())
    outcomes: dict[str, int] = {}
    for _, outcome, count in by_agent:
        outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {"total": sum(outcomes.values()), "outcomes": outcomes,
            "by_agent": _group(by_agent, users), "by_workflow": _group(by_workflow, workflows)}
