"""Live events: tasks added, changed and deleted, pushed over Socket.IO.

Rooms: every connection joins `user:<id>` (see builder.live.sockets). Who hears an event is decided when
it is published, from the database as it is then, by the rule of builder.domain.tasks: the account's
active admins and managers, the task's assignee and the assigned user of its contact (when active), each
in their own room. An agent therefore hears only of their own tasks and their contacts' tasks. A task
given to someone else is announced to its former assignee as `task.deleted` when they can no longer see it.

Events (payload: one task as in the REST API, builder.schemas.tasks.TaskSchema):
`task.created`, `task.updated`, `task.deleted`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from builder.domain.access import active_ids, staff_ids
from builder.extensions import db
from builder.live.emit import Emit, publish_safely, user_room
from builder.models import Task
from builder.schemas.tasks import TaskSchema

EVENTS = ("created", "updated", "deleted")


def publish(events: list[tuple[int, str, int | None]]) -> None:
    """Announce committed task changes: (task id, "created" | "updated" | "deleted", former assignee or None)."""
    for _, event, _ in events:
        if event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
    if events:
        publish_safely(lambda: _messages(events), "task events")


def _messages(events: list[tuple[int, str, int | None]]) -> list[Emit]:
    ids = list(dict.fromkeys(task_id for task_id, _, _ in events))
    rows = {task.id: task for task in db.session.scalars(
        select(Task).where(Task.id.in_(ids))
        .options(joinedload(Task.contact), joinedload(Task.assignee), joinedload(Task.completed_by),
                 joinedload(Task.created_by), joinedload(Task.workflow))
        .execution_options(populate_existing=True)
    ).unique()}
    staff = staff_ids(task.account_id for task in rows.values())
    people = {account_id: active_ids(account_id, [person for task in rows.values() if task.account_id == account_id
                                                  for person in _watchers(task)]
                                     + [former for task_id, _, former in events
                                        if task_id in rows and rows[task_id].account_id == account_id])
              for account_id in staff}
    schema = TaskSchema()
    messages: list[Emit] = []
    for task_id, event, former in events:
        task = rows.get(task_id)
        if task is None:
            continue
        managers = staff[task.account_id]
        audience = list(managers)
        # A deleted contact's tasks are seen by nobody else; those who saw them hear that they are gone.
        if task.contact.deleted_at is None or event == "deleted":
            audience += [user_id for user_id in dict.fromkeys(_watchers(task))
                         if user_id in people[task.account_id] and user_id not in managers]
        data = schema.dump(task)
        messages.append((f"task.{event}", data, [user_room(user_id) for user_id in audience]))
        if former is not None and former not in audience and former in people[task.account_id]:
            messages.append(("task.deleted", data, user_room(former)))
    return messages


def _watchers(task: Task) -> list[int]:
    return [user_id for user_id in (task.assignee_id, task.contact.assigned_user_id) if user_id is not None]
