"""A manual action as list rows, the API and live events show it."""

from __future__ import annotations

from marshmallow import Schema, fields

from builder.schemas.timestamps import DateTime


class ManualActionSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    status = fields.String()
    name = fields.String()
    contact_id = fields.Integer()
    contact_name = fields.Function(lambda a: a.contact.name)
    workflow_id = fields.Integer(allow_none=True)
    workflow_name = fields.Function(lambda a: a.workflow.name if a.workflow else None, allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    assignee_name = fields.Function(lambda a: (a.assignee.name or a.assignee.email) if a.assignee else None,
                                    allow_none=True)
    message = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    is_test = fields.Boolean()
    created_at = DateTime()
    completed_at = DateTime(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    claim_expires_at = DateTime(allow_none=True)

