"""Reports: call outcomes, manual actions completed per agent per day, and workflow funnels.

Every report covers whole days `from`..`to` (inclusive) in the viewer's time zone `tz` (an IANA
name, UTC by default), the last 30 days by default, at most 366 days. The manual-actions report
and the funnel are for managers and admins; the call report also answers agents, about their own
calls only, as it always has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import g
from marshmallow import Schema, ValidationError, fields, post_load

from builder.api.base import blueprint
from builder.domain import reports
from builder.domain.access import EDITORS, visible_actions
from builder.http.auth import require_role
from builder.models import ManualAction
from builder.schemas.fields import Id

bp = blueprint("api_reports", "/reports", description="Reports")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Not a known time zone (an IANA name such as America/New_York).", "tz") from None


class PeriodQuery(Schema):
    """`from`/`to`/`tz`, loaded as a `period` (reports.Period)."""

    from_ = fields.Date(data_key="from", metadata={"description": "first day (YYYY-MM-DD, in `tz`); "
                                                                  "default: 29 days before `to`"})
    to = fields.Date(metadata={"description": "last day, included (YYYY-MM-DD, in `tz`); default: today"})
    tz = fields.String(load_default="UTC", metadata={"description": "the viewer's IANA time zone; default UTC"})
    include_test = fields.Boolean(load_default=False)

    @post_load
    def _period(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        zone = _zone(data.pop("tz"))
        last, first = data.pop("to", None), data.pop("from_", None)
        try:
            last = last or reports.Period.recent(zone).last
            first = first or last - timedelta(days=reports.DEFAULT_DAYS - 1)
            if first > last:
                raise ValidationError("The first day must not be after the last.", "from")
            if (last - first).days + 1 > reports.MAX_DAYS:
                raise ValidationError(f"A report covers at most {reports.MAX_DAYS} days.", "from")
            data["period"] = reports.Period.of(first, last, zone)
        except OverflowError:  # e.g. 0001-01-01 in a zone east of UTC, or 9999-12-31
            raise ValidationError("That date is out of range.", "from") from None
        return data


class CallReportQuery(PeriodQuery):
    since = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "and completed at or after (ISO 8601; UTC if no offset is given)"})
    until = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "and completed before (ISO 8601; UTC if no offset is given)"})
    workflow_id = Id(strict=False)

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


class FunnelQuery(Schema):
    workflow_id = Id(strict=False, required=True)


class Breakdown(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    total = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())


class DayOutcomes(Schema):
    day = fields.String(metadata={"description": "YYYY-MM-DD in `tz`"})
    total = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())


class PeriodOut(Schema):
    from_ = fields.String(data_key="from")
    to = fields.String()
    tz = fields.String()


class CallReport(PeriodOut):
    total = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_agent = fields.List(fields.Nested(Breakdown))
    by_workflow = fields.List(fields.Nested(Breakdown))
    by_day = fields.List(fields.Nested(DayOutcomes), metadata={"description": "every day of the period"})


class AgentDays(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    total = fields.Integer()
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    counts = fields.List(fields.Integer(), metadata={"description": "completed per day, aligned with `days`"})


class ManualActionReport(PeriodOut):
    days = fields.List(fields.String())
    total = fields.Integer()
    by_agent = fields.List(fields.Nested(AgentDays))


class FunnelStep(Schema):
    step = fields.String()
    label = fields.String()
    type = fields.String(allow_none=True)
    passed = fields.Integer(metadata={"description": "distinct live runs that went through the step"})
    in_graph = fields.Boolean(metadata={"description": "false: a step only earlier versions had"})


class Funnel(Schema):
    workflow_id = fields.Integer()
    name = fields.String()
    version = fields.Integer(allow_none=True)
    steps = fields.List(fields.Nested(FunnelStep))


def _period_out(period: reports.Period) -> dict[str, str]:
    return {"from_": period.first.isoformat(), "to": period.last.isoformat(), "tz": period.zone.key}


@bp.get("/calls")
@bp.arguments(CallReportQuery, location="query")
@bp.response(200, CallReport)
def call_report(args: dict[str, Any]):
    """Completed Manual Call actions by outcome, per agent, per workflow and per day (agents see
    their own calls only)."""
    period = args["period"]
    calls = reports.completed(visible_actions(g.user), period, include_test=args["include_test"])
    if "since" in args:
        calls = calls.where(ManualAction.completed_at >= args["since"])
    if "until" in args:
        calls = calls.where(ManualAction.completed_at < args["until"])
    if "workflow_id" in args:
        calls = calls.where(ManualAction.workflow_id == args["workflow_id"])
    return {**_period_out(period), **reports.call_outcomes(calls, period)}


@bp.get("/manual-actions")
@require_role(*EDITORS)
@bp.arguments(PeriodQuery, location="query")
@bp.response(200, ManualActionReport)
def manual_action_report(args: dict[str, Any]):
    """Manual actions (calls and SMS) completed per agent per day (managers and admins)."""
    period = args["period"]
    report = reports.completed_per_agent(g.user.account_id, period, include_test=args["include_test"])
    return {**_period_out(period), **report}


@bp.get("/funnel")
@require_role(*EDITORS)
@bp.arguments(FunnelQuery, location="query")
@bp.response(200, Funnel)
def funnel(args: dict[str, Any]):
    """How many contacts passed each step of a workflow, in the order of its graph (managers and
    admins). Whole life of the workflow, every version, live runs only: the counters are not dated."""
    return reports.funnel(g.user.account_id, args["workflow_id"])
