"""The audit log (admins): who changed the team, the settings or a workflow, and when; newest first."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields

from builder.api.base import blueprint
from builder.domain import audit
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import AuditEvent
from builder.schemas.fields import PageQuery, PageSchema
from builder.schemas.timestamps import DateTime

bp = blueprint("api_audit", "/audit", description="Audit log (admins)")


class Actor(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class AuditEventSchema(Schema):
    id = fields.Integer()
    action = fields.String(metadata={"description": "e.g. user.role_changed, settings.twilio_saved, "
                                                    "workflow.published"})
    actor = fields.Nested(Actor, allow_none=True, metadata={"description": "null: a change made outside the app"})
    target_type = fields.String(metadata={"description": "user, settings or workflow"})
    target_id = fields.Integer(allow_none=True)
    target_label = fields.String(metadata={"description": "the target's name when it changed"})
    details = fields.Dict()
    created_at = DateTime()


class AuditPage(PageSchema):
    items = fields.List(fields.Nested(AuditEventSchema))


@bp.get("")
@require_role(*ADMINS)
@bp.arguments(PageQuery, location="query")
@bp.response(200, AuditPage)
def list_events(args: dict[str, Any]):
    """One page of the account's audit log, newest first."""
    query = audit.newest_first(g.user.account_id)
    total = db.session.scalar(audit.count(g.user.account_id))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    items = [{**_event(event), "actor": actor} for event, actor in rows]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def _event(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in
            ("id", "action", "target_type", "target_id", "target_label", "details", "created_at")}
