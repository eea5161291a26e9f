"""A user's own in-app notifications (the header's bell): list, mark one read, mark all read.

Every role may call these, and each user only ever reaches their own: another user's notification
answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields

from builder.api.base import blueprint
from builder.domain import notifications
from builder.domain.access import EDITORS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import Role
from builder.schemas.fields import PageQuery, PageSchema
from builder.schemas.notifications import NotificationSchema

bp = blueprint("api_notifications", "/notifications", description="Your in-app notifications")
EVERYONE = (*EDITORS, Role.AGENT.value)


class NotificationQuery(PageQuery):
    unread = fields.Boolean(load_default=False, metadata={"description": "only the unread ones"})


class NotificationPage(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread = fields.Integer(metadata={"description": "your unread notifications, on all pages"})


class ReadAllResult(Schema):
    marked = fields.Integer(metadata={"description": "how many were unread"})
    unread = fields.Integer()


@bp.get("")
@require_role(*EVERYONE)
@bp.arguments(NotificationQuery, location="query")
@bp.response(200, NotificationPage)
def list_notifications(args: dict[str, Any]):
    """One page of your notifications, newest first (`unread=true`: only the unread ones)."""
    user = g.user
    page, per_page = args["page"], args["per_page"]
    query = notifications.newest_first(user, unread_only=args["unread"])
    rows = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return {"items": notifications.for_reader(user, rows), "page": page, "per_page": per_page,
            "total": notifications.count(user, unread_only=args["unread"]),
            "unread": notifications.count(user, unread_only=True)}


@bp.post("/<int:notification_id>/read")
@require_role(*EVERYONE)
@bp.response(200, NotificationSchema)
def mark_read(notification_id: int):
    """Mark one of your notifications read."""
    row = notifications.mark_read(g.user, notification_id)
    db.session.commit()
    return notifications.for_reader(g.user, [row])[0]


@bp.post("/read-all")
@require_role(*EVERYONE)
@bp.response(200, ReadAllResult)
def mark_all_read():
    """Mark all your notifications read."""
    marked = notifications.mark_all_read(g.user)
    db.session.commit()
    return {"marked": marked, "unread": 0}
