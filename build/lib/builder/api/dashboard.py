"""Dashboard widgets: the pending manual-action counts."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields

from builder.api.base import blueprint
from builder.domain.counts import counts_for

bp = blueprint("api_dashboard", "/dashboard", description="Dashboard counts")


class AssigneeCount(Schema):
    assignee_id = fields.Integer(allow_none=True, metadata={"description": "null for unassigned actions"})
    assignee_name = fields.String()
    pending = fields.Integer()


class ManualActionCounts(Schema):
    pending_total = fields.Integer()
    pending_calls = fields.Integer()
    pending_sms = fields.Integer()
    by_assignee = fields.List(fields.Nested(AssigneeCount), metadata={"description": "admins and managers only"})


@bp.get("/manual-actions")
@bp.response(200, ManualActionCounts)
def manual_actions():
    """Pending (queued) manual actions the caller may see; admins and managers also get them per assignee."""
    return counts_for(g.user)
