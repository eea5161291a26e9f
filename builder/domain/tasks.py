"""Tasks: who sees them, the lists' filters, and adding, editing, completing, reopening and deleting one.

Agents see and work the tasks assigned to them and the tasks about contacts assigned to them; admins and
managers every task of the account. A task of a deleted contact is seen by nobody. Functions work in the
caller's transaction; the live events follow the commit through `after` (builder.live.task_events).

"Due" filters read the viewer's own time zone: overdue is an open task whose time has passed, today is
due between the viewer's midnight and the next, upcoming is due from the viewer's next midnight on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, or_, select, update

from builder.domain import goal_events
from builder.domain.access import can_see_contact
from builder.domain.errors import Invalid, NotFound
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import MAX_ID, Contact, Task, TaskStatus, User, utcnow
from engine import goals

DUE_FILTERS = ("overdue", "today", "upcoming")
STATUS_FILTERS = (TaskStatus.OPEN.value, TaskStatus.COMPLETED.value)


def visible_tasks(user: User) -> Select:
    """The tasks `user` may see: agents their own and their contacts', admins and managers the account's."""
    query = (select(Task).join(Contact, Contact.id == Task.contact_id)
             .where(Task.account_id == user.account_id, Task.deleted_at.is_(None), Contact.deleted_at.is_(None)))
    if not user.can_see_all:
        query = query.where(or_(Task.assignee_id == user.id, Contact.assigned_user_id == user.id))
    return query


def find(user: User, task_id: int) -> Task:
    """A task `user` may see, or NotFound (another's task is a 404 too, so ids do not leak)."""
    task = db.session.scalar(visible_tasks(user).where(Task.id == task_id)) if 0 < task_id <= MAX_ID else None
    if task is None:
        raise NotFound(f"Task {task_id} not found.")
    return task


# --- lists -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    assignee_id: int | None = None
    contact_id: int | None = None
    status: str | None = None  # open | completed; None: both
    due: str | None = None  # overdue | today | upcoming
    zone: ZoneInfo = ZoneInfo("UTC")  # the viewer's, for "today" and "upcoming"


def local_midnight(zone: ZoneInfo, now: datetime, days_ahead: int = 0) -> datetime:
    """The start of the viewer's day (`days_ahead` days on from today), as naive UTC."""
    today = now.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(today, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def filtered(query: Select, filters: Filters, now: datetime | None = None) -> Select:
    now = now or utcnow()
    if filters.assignee_id is not None:
        query = query.where(Task.assignee_id == filters.assignee_id)
    if filters.contact_id is not None:
        query = query.where(Task.contact_id == filters.contact_id)
    if filters.status is not None:
        query = query.where(Task.status == filters.status)
    if filters.due == "overdue":
        query = query.where(Task.status == TaskStatus.OPEN, Task.due_at < now)
    elif filters.due == "today":
        query = query.where(Task.due_at >= local_midnight(filters.zone, now),
                            Task.due_at < local_midnight(filters.zone, now, 1))
    elif filters.due == "upcoming":
        query = query.where(Task.due_at >= local_midnight(filters.zone, now, 1))
    return query


def ordered(query: Select) -> Select:
    """Soonest due first; open before completed when both are listed."""
    return query.order_by(Task.status.desc(), Task.due_at, Task.id)


def counts(user: User, now: datetime | None = None) -> dict[str, int]:
    """The dashboard's: open tasks the user sees, and how many of them are overdue (test runs' left out)."""
    now = now or utcnow()
    open_tasks = visible_tasks(user).where(Task.status == TaskStatus.OPEN, Task.is_test.is_(False)).subquery()
    total, overdue = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((open_tasks.c.due_at < now, 1), else_=0)), 0),
    ).select_from(open_tasks)).one()
    return {"open": int(total), "overdue": int(overdue)}


# --- changes -----------------------------------------------------------------------------------

def _check_assignee(user: User, assignee_id: int | None, account_id: int) -> None:
    if assignee_id is None:
        if not user.can_see_all:
            raise Invalid.at({"assignee_id": ["Agents assign tasks to themselves."]})
        return
    if not user.can_see_all and assignee_id != user.id:
        raise Invalid.at({"assignee_id": ["Agents assign tasks to themselves."]})
    if db.session.scalar(select(User.id).where(User.id == assignee_id, User.account_id == account_id,
                                               User.active.is_(True))) is None:
        raise Invalid.at({"assignee_id": [f"No active user {assignee_id} in this account."]})


def create(user: User, data: dict[str, Any], after: AfterCommit) -> Task:
    """A task `user` adds about a contact they may see; it is theirs unless an admin or manager names
    someone else (or nobody). `data`: contact_id, title, body?, due_at (naive UTC), assignee_id?."""
    contact = db.session.get(Contact, data["contact_id"]) if data["contact_id"] <= MAX_ID else None
    if not can_see_contact(user, contact):
        raise Invalid.at({"contact_id": [f"No contact {data['contact_id']} that you may see."]})
    assignee_id = data.get("assignee_id", user.id)
    _check_assignee(user, assignee_id, user.account_id)
    task = Task(account_id=user.account_id, contact_id=contact.id, title=data["title"], body=data.get("body", ""),
                assignee_id=assignee_id, due_at=data["due_at"], created_by_id=user.id, is_test=contact.is_test)
    db.session.add(task)
    db.session.flush()
    after.task_events.append((task.id, "created", None))
    return task


EDITABLE = ("title", "body", "due_at", "assignee_id")


def edit(user: User, task: Task, data: dict[str, Any], after: AfterCommit) -> Task:
    """Change a task's title, description, due time or assignee (the assignee as in `create`)."""
    previous = task.assignee_id
    if "assignee_id" in data and data["assignee_id"] != previous:
        _check_assignee(user, data["assignee_id"], task.account_id)
    changes = {name: data[name] for name in EDITABLE if name in data}
    if not changes:
        return task
    for name, value in changes.items():
        setattr(task, name, value)
    task.updated_at = utcnow()
    db.session.flush()
    after.task_events.append((task.id, "updated", previous if task.assignee_id != previous else None))
    return task


def complete(user: User, task: Task, after: AfterCommit) -> bool:
    """Mark an open task done by `user`; False (and no change) if it was already completed."""
    now = utcnow()
    done = _move(task, TaskStatus.OPEN, {"status": TaskStatus.COMPLETED.value, "completed_at": now,
                                         "completed_by_id": user.id, "updated_at": now}, after)
    if done:  # a run of the contact that can reach a "task completed" goal jumps to it
        contact = db.session.get(Contact, task.contact_id)
        if contact is not None:
            goal_events.meet(db.session, task.account_id, contact, [goals.Event(goals.TASK_COMPLETED)], after)
    return done


def reopen(task: Task, after: AfterCommit) -> bool:
    """Make a completed task open again; False (and no change) if it was open."""
    return _move(task, TaskStatus.COMPLETED, {"status": TaskStatus.OPEN.value, "completed_at": None,
                                              "completed_by_id": None, "updated_at": utcnow()}, after)


def delete(task: Task, after: AfterCommit) -> None:
    """Take the task out of every list (the row stays, marked deleted)."""
    now = utcnow()
    db.session.execute(update(Task).where(Task.id == task.id, Task.deleted_at.is_(None))
                       .values(deleted_at=now, updated_at=now))
    after.task_events.append((task.id, "deleted", None))


def _move(task: Task, expected: TaskStatus, values: dict[str, Any], after: AfterCommit) -> bool:
    """A conditional UPDATE: of two requests racing to complete (or reopen) a task, one changes it."""
    changed = db.session.execute(
        update(Task).where(Task.id == task.id, Task.status == expected, Task.deleted_at.is_(None)).values(**values)
    ).rowcount == 1
    if changed:
        after.task_events.append((task.id, "updated", None))
    return changed
