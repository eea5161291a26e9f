"""The inbound-webhook trigger's URL for editors: show it, rotate its secret, capture a sample request.

The URL carries the workflow's secret, so it is shown to editors only (agents 403) and never put in
the graph, the workflow's JSON or its versions. The rules are in builder.domain.workflow_hooks.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import Schema, fields, validate

from builder.api.workflows.common import bp, find_workflow
from builder.domain import workflow_hooks
from builder.domain.access import EDITORS
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import Workflow
from builder.schemas.timestamps import DateTime


class HookSchema(Schema):
    url = fields.String(metadata={"description": "POST JSON here to enroll a contact; it carries the secret"})
    rotated_at = DateTime(allow_none=True, metadata={
        "description": "when this secret was made; null: set on upgrade, and the URL from before works too"})


class ListenSchema(Schema):
    minutes = fields.Integer(load_default=workflow_hooks.LISTEN_MINUTES, strict=True,
                             validate=validate.Range(min=1, max=workflow_hooks.LISTEN_MINUTES_MAX),
                             metadata={"description": "how long to wait for the sample request"})


class ListeningSchema(Schema):
    listening_until = DateTime(allow_none=True)


class SampleFieldSchema(Schema):
    path = fields.String(metadata={"description": "dotted path, as the trigger's field_map names it"})
    example = fields.Raw(metadata={"description": "its value in the sample"})


class SampleSchema(Schema):
    listening_until = DateTime(allow_none=True, metadata={"description": "null once the sample came, or time ran out"})
    received_at = DateTime(allow_none=True)
    sample = fields.Raw(allow_none=True, metadata={"description": "the JSON object received"})
    fields_ = fields.List(fields.Nested(SampleFieldSchema), data_key="fields")


def _hook(wf: Workflow) -> dict[str, Any]:
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return {"url": base.rstrip("/") + workflow_hooks.hook_path(wf.id, wf.hook_secret), "rotated_at": wf.hook_rotated_at}


@bp.get("/<int:workflow_id>/hook")
@require_role(*EDITORS)
@bp.response(200, HookSchema)
def get_hook(workflow_id: int):
    """The workflow's inbound-webhook URL (editors only: the URL is the credential)."""
    return _hook(find_workflow(workflow_id))


@bp.post("/<int:workflow_id>/hook/rotate")
@require_role(*EDITORS)
@bp.response(200, HookSchema)
def rotate_hook(workflow_id: int):
    """A new secret: the old URL is refused from now on; other workflows' URLs are untouched."""
    wf = find_workflow(workflow_id)
    workflow_hooks.rotate(wf)
    db.session.commit()
    return _hook(wf)


@bp.post("/<int:workflow_id>/hook/listen")
@require_role(*EDITORS)
@bp.arguments(ListenSchema)
@bp.response(200, ListeningSchema)
def listen_for_sample(data, workflow_id: int):
    """Wait for a sample request: the next JSON object posted to the URL is kept (even for a draft)."""
    wf = find_workflow(workflow_id)
    until = workflow_hooks.listen(wf, data["minutes"])
    db.session.commit()
    return {"listening_until": until}


@bp.get("/<int:workflow_id>/hook/sample")
@require_role(*EDITORS)
@bp.response(200, SampleSchema)
def hook_sample(workflow_id: int):
    """The last sample request and its fields, or whether the capture is still waiting."""
    wf = find_workflow(workflow_id)
    return {"listening_until": workflow_hooks.listening_until(wf), "received_at": wf.hook_sample_at,
            "sample": wf.hook_sample, "fields_": workflow_hooks.sample_fields(wf.hook_sample)}
