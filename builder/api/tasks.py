"""Tasks: to-dos about contacts, added by people or by workflows' Add Task steps.

Agents see and work their own tasks and the tasks of contacts assigned to them; anyone else's is a 404,
so ids do not leak. Admins and managers see and work every task of the account. A contact's tasks are
`GET /api/tasks?contact_id=`. The rules are in builder.domain.tasks.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import g
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy.orm import selectinload

from builder.api.base import blueprint
from builder.api.common import paginate
from builder.domain import tasks
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Task
from builder.schemas.fields import Id, PageQuery, PageSchema, Text
from builder.schemas.tasks import TaskSchema
from jobqueue.effects import carry_out_committed

bp = blueprint("api_tasks", "/tasks", description="Tasks about contacts, for people to do by a due time")

TITLE = validate.Length(min=1, max=200)
BODY = validate.Length(max=10_000)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        raise ValidationError("Not a known time zone (an IANA name such as America/New_York).", "tz") from None


def _naive_utc(data: dict[str, Any]) -> dict[str, Any]:
    """Times are stored as naive UTC."""
    if data.get("due_at") is not None:
        try:
            data["due_at"] = data["due_at"].astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01 in a zone east of UTC
            raise ValidationError("Not a time that can be stored.", "due_at") from None
    return data


class TaskQuery(PageQuery):
    assignee_id = Id(strict=False)
    contact_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(tasks.STATUS_FILTERS),
                           metadata={"description": "open or completed; both if left out"})
    due = fields.String(validate=validate.OneOf(tasks.DUE_FILTERS), metadata={
        "description": "overdue: open and past its due time; today: due today in `tz`; upcoming: due after today"})
    tz = fields.String(load_default="UTC", metadata={"description": "the viewer's IANA time zone; default UTC"})

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        zone = _zone(data.pop("tz"))
        data["filters"] = tasks.Filters(
            assignee_id=data.pop("assignee_id", None), contact_id=data.pop("contact_id", None),
            status=data.pop("status", None), due=data.pop("due", None), zone=zone)
        return data


class TaskCreateSchema(Schema):
    contact_id = Id(required=True)
    title = Text(required=True, validate=TITLE)
    body = Text(load_default="", strip=False, validate=BODY)
    due_at = fields.AwareDateTime(required=True, default_timezone=UTC,
                                  metadata={"description": "ISO 8601; UTC if no offset is given"})
    assignee_id = Id(allow_none=True, metadata={
        "description": "default: the caller; agents may only give tasks to themselves, admins and managers to "
                       "any active user of the account (or null: nobody)"})

    @post_load
    def _naive_due(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _naive_utc(data)


class TaskEditSchema(Schema):
    title = Text(validate=TITLE)
    body = Text(strip=False, validate=BODY)
    due_at = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "ISO 8601; UTC if no offset"})
    assignee_id = Id(allow_none=True, metadata={"description": "as when adding a task"})

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give at least one of title, body, due_at, assignee_id.")

    @post_load
    def _naive_due(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _naive_utc(data)


class TaskPage(PageSchema):
    items = fields.List(fields.Nested(TaskSchema))


class TaskCounts(Schema):
    open = fields.Integer(metadata={"description": "open tasks the caller sees (test runs' left out)"})
    overdue = fields.Integer(metadata={"description": "of those, past their due time"})


def _loaded(query):
    return query.options(selectinload(Task.contact), selectinload(Task.assignee), selectinload(Task.completed_by),
                         selectinload(Task.created_by), selectinload(Task.workflow))


def _task(task_id: int) -> Task:
    return tasks.find(g.user, task_id)


def _commit(after: AfterCommit, task_id: int) -> Task:
    db.session.commit()
    carry_out_committed(after)
    return _task(task_id)


# --- routes --------------------------------------------------------------------------------

@bp.get("")
@bp.arguments(TaskQuery, location="query")
@bp.response(200, TaskPage)
def list_tasks(args: dict[str, Any]):
    """Tasks the caller may see, open ones first, soonest due first."""
    query = tasks.filtered(_loaded(tasks.visible_tasks(g.user)), args["filters"])
    return paginate(tasks.ordered(query), args)


@bp.post("")
@bp.arguments(TaskCreateSchema)
@bp.response(201, TaskSchema)
def create_task(data: dict[str, Any]):
    """Add a task about a contact the caller may see."""
    after = AfterCommit()
    task = tasks.create(g.user, data, after)
    return _commit(after, task.id)


@bp.get("/counts")
@bp.response(200, TaskCounts)
def task_counts():
    """The dashboard's: open tasks the caller sees, and how many are overdue."""
    return tasks.counts(g.user)


@bp.get("/<int:task_id>")
@bp.response(200, TaskSchema)
def get_task(task_id: int):
    return _task(task_id)


@bp.patch("/<int:task_id>")
@bp.arguments(TaskEditSchema)
@bp.response(200, TaskSchema)
def edit_task(data: dict[str, Any], task_id: int):
    """Change a task's title, description, due time or assignee."""
    after = AfterCommit()
    tasks.edit(g.user, _task(task_id), data, after)
    return _commit(after, task_id)


@bp.delete("/<int:task_id>")
@bp.response(204)
def delete_task(task_id: int):
    after = AfterCommit()
    tasks.delete(_task(task_id), after)
    db.session.commit()
    carry_out_committed(after)


@bp.post("/<int:task_id>/complete")
@bp.response(200, TaskSchema)
def complete_task(task_id: int):
    """Mark the task done. Completing a completed task changes nothing."""
    after = AfterCommit()
    tasks.complete(g.user, _task(task_id), after)
    return _commit(after, task_id)


@bp.post("/<int:task_id>/reopen")
@bp.response(200, TaskSchema)
def reopen_task(task_id: int):
    """Make a completed task open again. Reopening an open task changes nothing."""
    after = AfterCommit()
    tasks.reopen(_task(task_id), after)
    return _commit(after, task_id)
