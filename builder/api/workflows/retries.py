"""Retrying failed runs from their failed step: one run, or every failed run of a workflow (editors only).
The rules are in builder.domain.run_failures."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from builder.api.workflows.common import bp, find_workflow
from builder.domain.access import EDITORS
from builder.domain.run_failures import VERSIONS, retry_failed, retry_run
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.http.auth import require_role
from builder.schemas.fields import Flag
from builder.schemas.timestamps import DateTime
from jobqueue.effects import carry_out_committed

VERSION_HELP = ('"own": the version the run was on; "latest": the published version (a test run: the latest '
                "draft). The failed step must be in it.")


class RetryRequestSchema(Schema):
    version = fields.String(load_default="own", validate=validate.OneOf(VERSIONS),
                            metadata={"description": VERSION_HELP})


class RetryAllRequestSchema(RetryRequestSchema):
    test = Flag(load_default=False, metadata={"description": "retry the failed test runs instead of the live ones"})


class RetriedRunSchema(Schema):
    id = fields.Integer()
    workflow_id = fields.Integer()
    version_id = fields.Integer()
    contact_id = fields.Integer()
    status = fields.String()
    current_step = fields.String(allow_none=True)
    seq = fields.Integer()
    updated_at = DateTime()


class SkippedRunSchema(Schema):
    enrollment_id = fields.Integer()
    reason = fields.String()


class RetryAllSchema(Schema):
    retried = fields.List(fields.Integer(), metadata={"description": "the runs re-opened at their failed step"})
    skipped = fields.List(fields.Nested(SkippedRunSchema), metadata={"description": "failed runs left as they are"})


@bp.post("/<int:workflow_id>/runs/<int:enrollment_id>/retry")
@require_role(*EDITORS)
@bp.arguments(RetryRequestSchema)
@bp.response(202, RetriedRunSchema)
def retry_one(data, workflow_id: int, enrollment_id: int):
    """Retry a failed run from the step it failed at: the steps before are not repeated.

    409 when the run is not failed or its contact has another open run in the workflow; 422 when the
    failed step is not in the version asked for."""
    wf = find_workflow(workflow_id)
    after = AfterCommit()
    run = retry_run(g.user, wf, enrollment_id, data["version"], after)
    db.session.commit()
    carry_out_committed(after)
    return run


@bp.post("/<int:workflow_id>/runs/retry-failed")
@require_role(*EDITORS)
@bp.arguments(RetryAllRequestSchema)
@bp.response(202, RetryAllSchema)
def retry_all_failed(data, workflow_id: int):
    """Retry every failed run of the workflow (up to 1,000 a request) from its failed step; the runs that
    cannot be retried are listed with the reason."""
    wf = find_workflow(workflow_id)
    after = AfterCommit()
    result = retry_failed(g.user, wf, data["version"], after, test=data["test"])
    db.session.commit()
    carry_out_committed(after)
    return result
