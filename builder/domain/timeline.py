"""A contact's timeline: messages, calls, notes, manual actions and workflow runs, newest first.

Each kind is read with its own query, filtered by the contact (every table has an index that starts
with contact_id) and limited to one page, then the kinds are merged: a page costs five small queries
however long the history. Pages are keyset-paged with a cursor (time, kind, id) that says where the
previous page ended, so rows written meanwhile never shift a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from builder.domain.errors import Invalid
from builder.extensions import db
from builder.models import (
    Call,
    CallStep,
    Contact,
    Email,
    Enrollment,
    ManualAction,
    Message,
    Note,
    User,
    Workflow,
    WorkflowVersion,
)

# The order of kinds among items of the same time (the cursor's middle part).
KINDS = ("message", "call", "note", "manual_action", "run", "email")  # new kinds go last: cursors keep their ranks
RANK = {kind: rank for rank, kind in enumerate(KINDS)}
NOTE_MAX = 10_000  # as the Add Note action


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the next page has the items that sort after it (older, newest first)."""

    at: datetime
    rank: int
    id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.rank}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        try:
            at, rank, row_id = text.split("~")
            cursor = cls(datetime.fromisoformat(at).replace(tzinfo=None), int(rank), int(row_id))
        except ValueError:
            raise Invalid.at({"before": ["Not a timeline cursor: pass the `next` of the previous page."]}) from None
        if cursor.rank not in range(len(KINDS)) or cursor.id < 0:
            raise Invalid.at({"before": ["Not a timeline cursor: pass the `next` of the previous page."]})
        return cursor


def _older(at: InstrumentedAttribute, row_id: InstrumentedAttribute, rank: int,
           cursor: Cursor | None) -> ColumnElement[bool] | bool:
    """Rows of kind `rank` that sort after the cursor in (time, rank, id) descending order."""
    if cursor is None:
        return True
    if rank < cursor.rank:
        return at <= cursor.at
    if rank > cursor.rank:
        return at < cursor.at
    return or_(at < cursor.at, and_(at == cursor.at, row_id < cursor.id))


def timeline(contact: Contact, *, limit: int, before: Cursor | None = None,
             with_logs: bool = False) -> tuple[list[dict[str, Any]], Cursor | None]:
    """One page of the contact's timeline and the cursor of the next page (None on the last one).
    `with_logs`: runs carry the URL of their execution log (only editors may read it)."""
    # One more than a page of each: if any kind has more, the merged list is longer than a page.
    wanted = limit + 1
    items = (_messages(contact.id, wanted, before) + _calls(contact.id, wanted, before)
             + _notes(contact.id, wanted, before) + _manual_actions(contact.id, wanted, before)
             + _runs(contact.id, wanted, before, with_logs) + _emails(contact.id, wanted, before))
    items.sort(key=lambda item: (item["at"], RANK[item["kind"]], item["id"]), reverse=True)
    page = items[:limit]
    more = len(items) > limit
    last = page[-1] if page else None
    return page, Cursor(last["at"], RANK[last["kind"]], last["id"]) if more and last else None


def add_note(contact: Contact, author: User, body: str) -> Note:
    """A note written by a person (workflows add theirs through the engine's store)."""
    note = Note(contact_id=contact.id, body=body, author_user_id=author.id, is_test=contact.is_test)
    db.session.add(note)
    db.session.flush()
    return note


def note_item(note: Note, author: User | None) -> dict[str, Any]:
    return {"kind": "note", "id": note.id, "at": note.created_at, "body": note.body, "is_test": note.is_test,
            "author": _name(author.name, author.email) if author else None, "workflow_id": note.workflow_id}


def _name(name: str | None, email: str | None) -> str | None:
    return name or email


def _messages(contact_id: int, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    sender = aliased(User)
    rows = db.session.execute(
        select(Message, sender.name, sender.email).outerjoin(sender, sender.id == Message.sent_by_id)
        .where(Message.contact_id == contact_id,
               _older(Message.created_at, Message.id, RANK["message"], before))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit))
    return [{"kind": "message", "id": m.id, "at": m.created_at, "direction": m.direction, "channel": m.channel,
             "body": m.body, "status": m.status, "error": m.error, "is_test": m.is_test,
             "author": _name(name, email), "workflow_id": m.workflow_id, "send_at": m.send_at}
            for m, name, email in rows]


def _calls(contact_id: int, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    # Outcome and notes are written on the Manual Call action the call was placed from; a Call step's
    # call has its outcome on its call_steps row.
    rows = db.session.execute(
        select(Call, ManualAction.outcome, ManualAction.notes, User.name, User.email, CallStep.outcome,
               CallStep.workflow_id)
        .outerjoin(ManualAction, ManualAction.id == Call.manual_action_id)
        .outerjoin(CallStep, CallStep.call_id == Call.id)
        .outerjoin(User, User.id == Call.user_id)
        .where(Call.contact_id == contact_id, _older(Call.created_at, Call.id, RANK["call"], before))
        .order_by(Call.created_at.desc(), Call.id.desc()).limit(limit))
    return [{"kind": "call", "id": c.id, "at": c.created_at, "status": c.status, "outcome": outcome or automated,
             "notes": notes, "duration_seconds": c.duration_seconds, "is_test": c.is_test,
             "author": _name(name, email), "manual_action_id": c.manual_action_id, "workflow_id": workflow_id,
             "error": c.error}
            for c, outcome, notes, name, email, automated, workflow_id in rows]


def _notes(contact_id: int, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Note, User.name, User.email, Workflow.name).outerjoin(User, User.id == Note.author_user_id)
        .outerjoin(Workflow, Workflow.id == Note.workflow_id)
        .where(Note.contact_id == contact_id, _older(Note.created_at, Note.id, RANK["note"], before))
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(limit))
    return [{"kind": "note", "id": n.id, "at": n.created_at, "body": n.body, "is_test": n.is_test,
             "author": _name(name, email), "workflow_id": n.workflow_id, "workflow_name": workflow}
            for n, name, email, workflow in rows]


def _manual_actions(contact_id: int, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(ManualAction, User.name, User.email, Workflow.name)
        .outerjoin(User, User.id == ManualAction.assignee_id)
        .outerjoin(Workflow, Workflow.id == ManualAction.workflow_id)
        .where(ManualAction.contact_id == contact_id,
               _older(ManualAction.created_at, ManualAction.id, RANK["manual_action"], before))
        .order_by(ManualAction.created_at.desc(), ManualAction.id.desc()).limit(limit))
    return [{"kind": "manual_action", "id": a.id, "at": a.created_at, "type": a.type, "name": a.name,
             "status": a.status, "outcome": a.outcome, "notes": a.notes, "completed_at": a.completed_at,
             "is_test": a.is_test, "author": _name(name, email), "workflow_id": a.workflow_id,
             "workflow_name": workflow}
            for a, name, email, workflow in rows]


def _runs(contact_id: int, limit: int, before: Cursor | None, with_logs: bool) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Enrollment, Workflow.name, WorkflowVersion.graph)
        .join(Workflow, Workflow.id == Enrollment.workflow_id)
        .join(WorkflowVersion, WorkflowVersion.id == Enrollment.version_id)
        .where(Enrollment.contact_id == contact_id,
               _older(Enrollment.created_at, Enrollment.id, RANK["run"], before))
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc()).limit(limit))
    items = []
    for run, workflow, graph in rows:
        step = ((graph or {}).get("steps") or {}).get(run.current_step) or {} if run.current_step else {}
        items.append({
            "kind": "run", "id": run.id, "at": run.created_at, "status": run.status, "is_test": run.is_test,
            "workflow_id": run.workflow_id, "workflow_name": workflow, "current_step": run.current_step,
            "step_name": step.get("name") or step.get("type"), "error": run.error,
            "finished_at": run.finished_at,
            "log_url": f"/api/workflows/{run.workflow_id}/executions?enrollment_id={run.id}" if with_logs else None,
        })
    return items


def _emails(contact_id: int, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    # Emails have their own table (see builder.models.Email); in the thread they sit beside texts and calls.
    rows = db.session.scalars(
        # (not the copies of notifications emailed to team members about the contact: user_id set)
        select(Email).where(Email.contact_id == contact_id, Email.user_id.is_(None),
                            _older(Email.created_at, Email.id, RANK["email"], before))
        .order_by(Email.created_at.desc(), Email.id.desc()).limit(limit))
    return [{"kind": "email", "id": e.id, "at": e.created_at, "direction": "outbound", "channel": "email",
             "to": e.to_address, "subject": e.subject, "body": e.text_body, "status": e.status,
             "provider": e.provider, "simulated": e.provider == "console", "error": e.error,
             "error_code": e.error_code, "sent_at": e.sent_at, "is_test": e.is_test, "workflow_id": e.workflow_id}
            for e in rows]
