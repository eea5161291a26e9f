"""The shape of an in-app notification, shared by the REST API and the live `notification.created` event."""

from __future__ import annotations

from marshmallow import Schema, fields

from builder.schemas.timestamps import DateTime


class NotificationContact(Schema):
    id = fields.Integer()
    name = fields.String()


class NotificationSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    contact = fields.Nested(NotificationContact, allow_none=True,
                            metadata={"description": "the contact it is about; null if the reader may not see it "
                                                     "(any more)"})
    workflow_id = fields.Integer(allow_none=True)
    is_test = fields.Boolean(metadata={"description": "sent by a test run of the workflow"})
    created_at = DateTime()
    read_at = DateTime(allow_none=True)


class NotificationCreatedEvent(Schema):
    notification = fields.Nested(NotificationSchema)
    unread = fields.Integer(metadata={"description": "the receiver's unread notifications, this one included"})
