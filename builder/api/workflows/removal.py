"""Deleting a workflow. With contacts still in it, the caller chooses: let them finish (the workflow
leaves the list and takes nobody new; the last run to end removes it) or cancel them now.
What removing takes with it: builder.domain.workflows.remove_workflow.
"""

from __future__ import annotations

from flask import g, jsonify, make_response
from marshmallow import Schema, fields, validate

from builder.api.workflows.common import bp, find_workflow
from builder.domain import audit, workflows
from builder.domain.access import EDITORS
from builder.domain.store import AfterCommit
from builder.domain.workflow_stats import open_runs
from builder.extensions import db
from builder.http.auth import require_role
from jobqueue.effects import carry_out_committed


class DeleteQuery(Schema):
    active = fields.String(validate=validate.OneOf(["finish", "cancel"]), metadata={
        "description": "what happens to contacts still in the workflow: finish (the workflow goes once they are "
                       "done) or cancel (their runs end now); without it, a workflow with contacts in it is a 409"})


class FinishingSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "finishing: removed when its last run ends"})
    active = fields.Integer(metadata={"description": "contacts still in it"})


@bp.delete("/<int:workflow_id>")
@require_role(*EDITORS)
@bp.arguments(DeleteQuery, location="query")
@bp.response(204)
@bp.alt_response(202, schema=FinishingSchema, description="Deleted from the list; removed once its contacts finish")
@bp.alt_response(409, description="Contacts are still in the workflow: say what happens to them with ?active=")
def delete_workflow(args, workflow_id: int):
    """Delete a workflow (see ?active= for one that contacts are still in)."""
    wf = find_workflow(workflow_id)
    active = open_runs(wf.id)
    choice = args.get("active")
    if active and choice is None:
        people = "1 contact is" if active == 1 else f"{active} contacts are"
        return make_response(jsonify({"error": {
            "code": "conflict", "active": active,
            "message": f"{people} still in this workflow: let them finish (?active=finish) or cancel them "
                       "(?active=cancel).",
        }}), 409)
    audit.workflow_event(g.user, audit.WORKFLOW_DELETED, wf, contacts_in_it=active, choice=choice)
    if active and choice == "finish":
        workflows.retire(wf)
        db.session.commit()
        return make_response(jsonify({"id": workflow_id, "status": "finishing", "active": active}), 202)
    after = AfterCommit(removed_actions=workflows.remove_workflow(wf.id))
    db.session.commit()
    carry_out_committed(after)
    return None
