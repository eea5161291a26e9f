"""Live events: a new in-app notification, pushed to its recipient only.

Each notification goes to `user:<id>` of the one user it is for (builder.live.emit.user_room), never
to an account or role room: nobody hears of another person's notifications. The recipient is read
afresh when publishing, so a user deactivated since hears nothing.

Event: `notification.created` {notification (builder.schemas.notifications.NotificationSchema, the API's
row shape), unread (the receiver's unread count, this one included)}.
"""

from __future__ import annotations

from sqlalchemy import select

from builder.domain.notifications import for_reader, unread_counts
from builder.extensions import db
from builder.live.emit import Emit, publish_safely, user_room
from builder.models import Notification, User
from builder.schemas.notifications import NotificationCreatedEvent

CREATED = "notification.created"


def publish_created(notification_ids: list[int]) -> None:
    """Tell each recipient of these (committed) notifications about theirs, with their unread count."""
    if notification_ids:
        publish_safely(lambda: _created_messages(notification_ids), "notifications")


def _created_messages(notification_ids: list[int]) -> list[Emit]:
    rows = list(db.session.scalars(
        select(Notification).where(Notification.id.in_(notification_ids)).order_by(Notification.id)))
    recipients = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({row.user_id for row in rows}), User.active.is_(True)))}
    unread = unread_counts(recipients)
    schema = NotificationCreatedEvent()
    messages: list[Emit] = []
    for row in rows:
        user = recipients.get(row.user_id)
        if user is None or user.account_id != row.account_id:
            continue
        payload = schema.dump({"notification": for_reader(user, [row])[0], "unread": unread[user.id]})
        messages.append((CREATED, payload, [user_room(user.id)]))
    return messages
