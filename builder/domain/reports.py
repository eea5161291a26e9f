"""Reports: call outcomes, completed manual actions and workflow funnels, counted in the database.

Every report covers a `Period`: whole days in the viewer's time zone, at most MAX_DAYS of them,
so a report has at most that many day buckets (times its outcomes or agents) however much data
there is. Stored times are naive UTC; `local_day` turns one into the viewer's calendar day in SQL
on SQLite and PostgreSQL alike.

The funnel reads the engine's "passed" counters (builder.domain.step_counts): they are not dated,
so it covers the workflow's whole life, whatever the period (see the notes in `funnel`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select

from builder.domain import step_counts
from builder.domain.access import account_actions
from builder.domain.errors import NotFound
from builder.domain.workflows import account_workflows
from builder.extensions import db
from builder.models import ManualAction, ManualActionStatus, ManualActionType, User, Workflow
from engine.graph import Graph

MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """The days first..last (inclusive) in `zone`, and the naive-UTC instants [start, end) they span."""

    first: date
    last: date
    zone: ZoneInfo
    start: datetime
    end: datetime

    @classmethod
    def of(cls, first: date, last: date, zone: ZoneInfo) -> Period:
        return cls(first, last, zone, _utc_midnight(first, zone), _utc_midnight(last + timedelta(days=1), zone))

    @classmethod
    def recent(cls, zone: ZoneInfo, now: datetime | None = None, days: int = DEFAULT_DAYS) -> Period:
        """The last `days` days, today (in `zone`) included."""
        today = (now or datetime.now(UTC)).astimezone(zone).date()
        return cls.of(today - timedelta(days=days - 1), today, zone)

    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + timedelta(days=i)).isoformat() for i in range(count)]


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _offset_seconds(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _offset_spans(period: Period) -> list[tuple[datetime, int]]:
    """[(from instant, UTC offset in seconds)] over the period: one span, plus one per DST change."""
    spans = [(period.start, _offset_seconds(period.start, period.zone))]
    day, prev = period.start, spans[0][1]
    while day < period.end:
        nxt = min(day + timedelta(days=1), period.end)
        if _offset_seconds(nxt, period.zone) != prev:
            low, high = day, nxt  # the change lies in (low, high]: find its second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                low, high = (mid, high) if _offset_seconds(mid, period.zone) == prev else (low, mid)
            prev = _offset_seconds(high, period.zone)
            spans.append((high.replace(microsecond=0), prev))
        day = nxt
    return spans


def local_day(column: Any, period: Period) -> ColumnElement[str]:
    """The calendar day ("YYYY-MM-DD") a naive-UTC time falls on in the period's zone, in SQL.

    Neither database is asked for time zone rules (SQLite has none): the offsets, one per DST span
    of the period, are worked out here and applied with a CASE on the instant."""
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def shifted(seconds: int) -> ColumnElement[str]:
        if postgres:
            return func.to_char(column + timedelta(seconds=seconds), "YYYY-MM-DD")
        return func.date(column, f"{seconds:+d} seconds")

    spans = _offset_spans(period)
    if len(spans) == 1:
        return shifted(spans[0][1])
    # Newest span first: the first WHEN that holds is the span the instant is in.
    return case(*[(column >= since, shifted(offset)) for since, offset in reversed(spans[1:])],
                else_=shifted(spans[0][1]))


def _names(model: Any, label: Any, ids: Iterable[Any]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(model.id, label).where(model.id.in_(wanted))).all())


def user_names(ids: Iterable[Any]) -> dict[int, str]:
    return _names(User, func.coalesce(func.nullif(User.name, ""), User.email), ids)


def workflow_names(ids: Iterable[Any]) -> dict[int, str]:
    return _names(Workflow, Workflow.name, ids)


def completed(actions: Select, period: Period, *, include_test: bool = False) -> Select:
    """The completed ones of `actions` (a manual-action query), completed within the period."""
    query = actions.where(ManualAction.status == ManualActionStatus.COMPLETED,
                          ManualAction.completed_at >= period.start, ManualAction.completed_at < period.end)
    return query if include_test else query.where(ManualAction.is_test.is_(False))


def count_by(actions: Select, period: Period, *keys: str) -> list[tuple[Any, ...]]:
    """(key values..., count) rows of `actions` grouped by the named columns; "day" is the local day.

    Grouped over a subquery: PostgreSQL would see the day expression's parameters in SELECT and
    GROUP BY as two different expressions."""
    rows = actions.with_only_columns(
        *[ManualAction.__table__.c[key] for key in keys if key != "day"],
        local_day(ManualAction.completed_at, period).label("day"),
    ).subquery()
    columns = [rows.c[key] for key in keys]
    return [tuple(row) for row in db.session.execute(select(*columns, func.count()).group_by(*columns))]


def call_outcomes(actions: Select, period: Period) -> dict[str, Any]:
    """The Manual Calls among `actions` (completed in the period: see `completed`) by outcome: in all, per
    agent, per workflow and per day of the period."""
    calls = actions.where(ManualAction.type == ManualActionType.CALL)
    by_agent = count_by(calls, period, "completed_by_id", "outcome")
    by_workflow = count_by(calls, period, "workflow_id", "outcome")
    by_day = count_by(calls, period, "day", "outcome")
    outcomes: dict[str, int] = {}
    for _, outcome, n in by_agent:
        outcomes[outcome] = outcomes.get(outcome, 0) + n
    days = {day: {"day": day, "total": 0, "outcomes": {}} for day in period.days()}
    for day, outcome, n in by_day:
        if day in days:
            days[day]["total"] += n
            days[day]["outcomes"][outcome] = n
    return {"total": sum(outcomes.values()), "outcomes": outcomes,
            "by_agent": _breakdown(by_agent, user_names(r[0] for r in by_agent)),
            "by_workflow": _breakdown(by_workflow, workflow_names(r[0] for r in by_workflow)),
            "by_day": list(days.values())}


def _breakdown(rows: list[tuple[Any, ...]], names: dict[Any, str]) -> list[dict[str, Any]]:
    groups: dict[Any, dict[str, Any]] = {}
    for key, outcome, n in rows:
        group = groups.setdefault(key, {"id": key, "name": names.get(key), "total": 0, "outcomes": {}})
        group["total"] += n
        group["outcomes"][outcome] = n
    return sorted(groups.values(), key=lambda g: (-g["total"], g["name"] or ""))


def completed_per_agent(account_id: int, period: Period, *, include_test: bool = False) -> dict[str, Any]:
    """Manual actions (calls and SMS) completed per agent per day; `counts` is aligned with `days`."""
    done = completed(account_actions(account_id), period, include_test=include_test)
    days = period.days()
    index = {day: i for i, day in enumerate(days)}
    agents: dict[Any, dict[str, Any]] = {}
    for agent_id, kind, day, n in count_by(done, period, "completed_by_id", "type", "day"):
        agent = agents.setdefault(agent_id, {"id": agent_id, "total": 0, "by_type": {}, "counts": [0] * len(days)})
        agent["total"] += n
        agent["by_type"][kind] = agent["by_type"].get(kind, 0) + n
        if day in index:
            agent["counts"][index[day]] += n
    names = user_names(agents)
    for agent in agents.values():
        agent["name"] = names.get(agent["id"])
    rows = sorted(agents.values(), key=lambda a: (-a["total"], a["name"] or ""))
    return {"days": days, "total": sum(a["total"] for a in rows), "by_agent": rows}


def graph_order(graph: dict[str, Any]) -> list[str]:
    """The graph's steps from the start, breadth first (a branch's arms side by side), then any
    step no path reaches, by id."""
    parsed = Graph.from_dict(graph)
    order: list[str] = []
    queue = [parsed.start] if parsed.start in parsed.steps else []
    while queue:
        sid = queue.pop(0)
        if sid not in order:
            order.append(sid)
            queue.extend(s for s in parsed.successors(sid) if s not in order)
    return order + sorted(set(parsed.steps) - set(order))


def funnel_workflows(account_id: int) -> list[dict[str, Any]]:
    """The workflows a funnel can be asked for, by name."""
    rows = db.session.execute(account_workflows(account_id).with_only_columns(Workflow.id, Workflow.name)
                              .order_by(Workflow.name, Workflow.id))
    return [{"id": wid, "name": name} for wid, name in rows]


def funnel(account_id: int, workflow_id: int) -> dict[str, Any]:
    """How many contacts (live runs, every version) passed each step, in the order of the graph
    (the published version's, else the latest draft's). Steps only earlier versions had follow,
    under their ids, if runs passed them.

    Whole life, not a period: the counters are not dated, and counting a period from the
    execution log would read every log row of the workflow (no index on its time) and undercount
    once old logs are pruned (EXECUTION_LOG_RETENTION_DAYS)."""
    workflow = db.session.scalar(account_workflows(account_id).where(Workflow.id == workflow_id))
    if workflow is None:
        raise NotFound("No such workflow.", {"workflow_id": ["No such workflow."]})
    version = workflow.published_version or workflow.latest_version()
    graph = version.graph if version else {"start": None, "steps": {}}
    passed = step_counts.passed_by_step(db.session, workflow.id)
    order = graph_order(graph)
    steps = [{"step": sid, "label": graph["steps"][sid].get("name") or graph["steps"][sid]["type"],
              "type": graph["steps"][sid]["type"], "passed": passed.get(sid, 0), "in_graph": True} for sid in order]
    steps += [{"step": sid, "label": sid, "type": None, "passed": n, "in_graph": False}
              for sid, n in sorted(passed.items()) if sid not in graph["steps"]]
    return {"workflow_id": workflow.id, "name": workflow.name, "version": version.number if version else None,
            "steps": steps}
