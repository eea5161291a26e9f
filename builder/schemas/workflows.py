"""Workflows, their versions and their execution log as the API and live events show them."""

from __future__ import annotations

from marshmallow import Schema, fields

from builder.schemas.timestamps import DateTime


class UserRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class VersionSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    created_at = DateTime()
    created_by_id = fields.Integer(allow_none=True)
    created_by = fields.Nested(UserRefSchema, allow_none=True)
    published_at = DateTime(allow_none=True)
    published_by_id = fields.Integer(allow_none=True)
    is_published = fields.Boolean(metadata={"description": "this is the live version"})


class CountsSchema(Schema):
    active = fields.Integer(metadata={"description": "live runs not finished (waiting ones included)"})
    waiting = fields.Integer(metadata={"description": "runs paused at a wait or a manual step"})
    completed = fields.Integer()
    failed = fields.Integer(metadata={"description": "live runs that failed (and were not retried)"})


class WorkflowSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"description": "draft until a version is published"})
    trigger = fields.Dict()
    version = fields.Integer(allow_none=True, metadata={"description": "number of the latest version"})
    published_version = fields.Integer(allow_none=True)
    has_unpublished_changes = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()
    updated_by = fields.Nested(UserRefSchema, allow_none=True,
                               metadata={"description": "who saved the latest version"})
    counts = fields.Nested(CountsSchema)
    graph = fields.Dict(metadata={"description": "the requested (default: latest) version's graph"})


class WorkflowSummarySchema(WorkflowSchema):
    class Meta:
        exclude = ("graph",)


class ExecutionSchema(Schema):
    id = fields.Integer()
    workflow_id = fields.Integer()
    enrollment_id = fields.Integer()
    contact_id = fields.Integer()
    version_id = fields.Integer()
    step_id = fields.String()
    step_type = fields.String()
    idempotency_key = fields.String()
    input = fields.Dict()
    outcome = fields.String()
    output = fields.Dict()
    error = fields.String(allow_none=True)
    is_test = fields.Boolean()
    started_at = DateTime()
    finished_at = DateTime()
    duration_ms = fields.Float()

