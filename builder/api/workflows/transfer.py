"""Export a workflow as a versioned JSON file, and import one as a new draft (editors).

The file format, how users travel (by email) and what an import reports in `remapped` are in
builder.domain.workflow_transfer.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, jsonify, request
from marshmallow import Schema, fields

from builder.api.base import fail
from builder.api.workflows.common import bp, dump_workflow, find_workflow
from builder.domain import workflows
from builder.domain.access import EDITORS
from builder.domain.workflow_transfer import (
    account_directory,
    account_emails,
    export_document,
    import_document,
    safe_file_name,
)
from builder.extensions import db
from builder.http.auth import require_role
from builder.http.input_limits import loads_body
from builder.models import utcnow
from builder.schemas.workflows import WorkflowSchema

__all__ = ["bp"]

IMPORT_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "the exported file's JSON"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, "name": {"type": "string"}}}},
}}


class RemapSchema(Schema):
    step = fields.String(allow_none=True, metadata={"description": "step id; null for the trigger"})
    field = fields.String(metadata={"description": "the field's path in the step"})
    change = fields.String(metadata={"description": "user_dropped, step_unassigned, user_condition_unmatched, "
                                                    "new_tag or new_custom_field"})
    message = fields.String()


class ImportedWorkflowSchema(WorkflowSchema):
    remapped = fields.List(fields.Nested(RemapSchema), metadata={
        "description": "what had to change to fit this account, or what it does not have yet"})


@bp.get("/<int:workflow_id>/export")
@require_role(*EDITORS)
@bp.doc(responses={200: {"description": 'the file: {"format": "flowdesk.workflow", "version": 1, "name", '
                                        '"graph", "exported_at"}, users by email'}})
def export_workflow(workflow_id: int):
    """The workflow's latest graph (trigger, settings, steps) as a JSON file to import elsewhere."""
    wf = find_workflow(workflow_id)
    latest = wf.latest_version()
    if latest is None:
        fail(409, "This workflow has no version to export.")
    document = export_document(wf.name, latest.graph, account_emails(wf.account_id), utcnow())
    response = jsonify(document)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_file_name(wf.name)}"'
    return response


def _uploaded() -> tuple[Any, str | None]:
    """The file's JSON (a multipart upload named `file`, or the JSON body itself) and a name to give it."""
    upload = request.files.get("file")
    if upload is None and request.mimetype == "multipart/form-data":
        fail(422, "file: Upload the exported workflow file.", {"file": ["Upload the exported workflow file."]})
    if upload is None:
        document = request.get_json(silent=True)
        if document is None:
            fail(400, "Send the exported file as the JSON body, or upload it as `file`.")
        return document, None
    try:
        return loads_body(upload.read()), (request.form.get("name") or "").strip() or None
    except (json.JSONDecodeError, ValueError):
        fail(422, "file: The file is not valid JSON.", {"file": ["The file is not valid JSON."]})


@bp.post("/import")
@require_role(*EDITORS)
@bp.doc(requestBody=IMPORT_BODY)
@bp.response(201, ImportedWorkflowSchema)
def import_workflow():
    """A new draft workflow from an exported file; users are matched by email in this account."""
    document, name = _uploaded()
    imported = import_document(document, account_directory(g.user.account_id), name=name)
    wf = workflows.create_workflow(g.user.account_id, imported.graph, author_id=g.user.id, publish=False)
    db.session.commit()
    return {**dump_workflow(wf), "remapped": [r.as_dict() for r in imported.remapped]}
