"""Workflow templates: the gallery (built-in and the account's own), new drafts from a template (editors),
and saving a workflow as an account template or deleting one (admins).

/api/workflows/... routes join the workflows blueprint; /api/workflow-templates is a blueprint of its own.
The rules are in builder.domain.workflow_templates.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate

from builder.api.base import blueprint
from builder.api.workflows.common import bp, dump_workflow, find_workflow
from builder.api.workflows.transfer import ImportedWorkflowSchema
from builder.domain import workflow_templates
from builder.domain.access import ADMINS, EDITORS
from builder.extensions import db
from builder.http.auth import require_role
from builder.schemas.timestamps import DateTime

__all__ = ["bp", "templates_bp"]

templates_bp = blueprint("api_workflow_templates", "/workflow-templates",
                         description="Workflow templates: built-in patterns and the account's own")


class TemplateRef(fields.Field):
    """"builtin:<slug>" or an account template's id."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | int:
        if isinstance(value, int) and not isinstance(value, bool) or isinstance(value, str) and value.strip():
            return value.strip() if isinstance(value, str) else value
        raise ValidationError('Give "builtin:<name>" or the id of one of your account\'s templates.')


class FromTemplateSchema(Schema):
    template = TemplateRef(required=True, metadata={"description": '"builtin:<slug>" or an account template id'})
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=workflow_templates.NAME_MAX),
                         metadata={"description": "the new workflow's name; default the template's"})


class SaveTemplateSchema(Schema):
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=workflow_templates.NAME_MAX),
                         metadata={"description": "default the workflow's name"})
    description = fields.String(load_default="", validate=validate.Length(max=workflow_templates.DESCRIPTION_MAX))


class TemplateSchema(Schema):
    id = fields.Raw(metadata={"description": '"builtin:<slug>", or an integer for the account\'s own'})
    kind = fields.String(metadata={"description": "builtin or account"})
    name = fields.String()
    description = fields.String()
    trigger = fields.Dict()
    steps = fields.List(fields.String(), metadata={"description": "the pattern's steps, from the start"})
    created_at = DateTime()


@templates_bp.get("")
@require_role(*EDITORS)
@templates_bp.response(200, TemplateSchema(many=True))
def list_templates():
    """The built-in templates, then the account's own, newest first."""
    return workflow_templates.list_templates(g.user.account_id)


@templates_bp.delete("/<int:template_id>")
@require_role(*ADMINS)
@templates_bp.response(204)
def delete_template(template_id: int):
    """Delete one of the account's templates (built-in ones stay). Workflows made from it stay."""
    workflow_templates.delete_template(g.user.account_id, template_id)
    db.session.commit()


@bp.post("/from-template")
@require_role(*EDITORS)
@bp.arguments(FromTemplateSchema)
@bp.response(201, ImportedWorkflowSchema)
def from_template(data: dict[str, Any]):
    """A new draft workflow from a template; `remapped` says what did not fit this account."""
    wf, imported = workflow_templates.create_from_template(g.user.account_id, data["template"], name=data["name"],
                                                           author_id=g.user.id)
    db.session.commit()
    return {**dump_workflow(wf), "remapped": [r.as_dict() for r in imported.remapped]}


@bp.post("/<int:workflow_id>/save-as-template")
@require_role(*ADMINS)
@bp.arguments(SaveTemplateSchema)
@bp.response(201, TemplateSchema)
def save_as_template(data: dict[str, Any], workflow_id: int):
    """Save the workflow's latest graph as a template of the account."""
    template = workflow_templates.save_as_template(find_workflow(workflow_id), name=data["name"],
                                                   description=data["description"], by=g.user.id)
    db.session.commit()
    return workflow_templates.card(template)
