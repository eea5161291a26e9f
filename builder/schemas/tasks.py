"""A task as the API, the live events and the pages show it."""

from __future__ import annotations

from marshmallow import Schema, fields

from builder.models import TaskStatus, User, utcnow
from builder.schemas.timestamps import DateTime


def _name(user: User | None) -> str | None:
    return (user.name or user.email) if user else None


class TaskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    status = fields.String(metadata={"description": "open | completed"})
    contact_id = fields.Integer()
    contact_name = fields.Function(lambda t: t.contact.name)
    assignee_id = fields.Integer(allow_none=True)
    assignee_name = fields.Function(lambda t: _name(t.assignee), allow_none=True)
    due_at = DateTime()
    overdue = fields.Function(lambda t: t.status == TaskStatus.OPEN and t.due_at < utcnow(),
                              metadata={"description": "open and its due time has passed"})
    completed_at = DateTime(allow_none=True)
    completed_by_id = fields.Integer(allow_none=True)
    completed_by_name = fields.Function(lambda t: _name(t.completed_by), allow_none=True)
    created_by_id = fields.Integer(allow_none=True, metadata={"description": "the user who added it, if one did"})
    created_by_name = fields.Function(lambda t: _name(t.created_by), allow_none=True)
    workflow_id = fields.Integer(allow_none=True, metadata={"description": "the workflow whose run added it"})
    workflow_name = fields.Function(lambda t: t.workflow.name if t.workflow else None, allow_none=True)
    enrollment_id = fields.Integer(allow_none=True)
    is_test = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()
