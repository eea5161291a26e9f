"""A contact import as the API answers it and as its live progress event carries it."""

from __future__ import annotations

from marshmallow import Schema, fields

from builder.schemas.timestamps import DateTime


class ImportOptionsSchema(Schema):
    duplicates = fields.String()
    tags = fields.List(fields.String())
    workflow_id = fields.Integer(allow_none=True)
    batch_size = fields.Integer(allow_none=True)
    interval_seconds = fields.Integer()
    fire_created = fields.Boolean()


class ContactImportSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    status = fields.String(metadata={"description": "uploaded, queued, running, finished or failed"})
    headers = fields.List(fields.String())
    mapping = fields.List(fields.String(), allow_none=True)
    options = fields.Nested(ImportOptionsSchema, allow_none=True)
    total = fields.Integer(allow_none=True, metadata={"description": "data rows in the file, once counted"})
    processed = fields.Integer(metadata={"description": "rows done so far, rejected ones included"})
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer(metadata={"description": "duplicates left as they were, and empty rows"})
    rejected = fields.Integer()
    bulk_enrollment_id = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = DateTime()
    updated_at = DateTime()
    finished_at = DateTime(allow_none=True)
