"""Deleting a workflow. With contacts still in it, the caller chooses: let them finish (the workflow
leaves the list and takes nobody new; the last run to end removes it) or cancel them now.

Removing a workflow removes its versions, runs, execution log and enroll requests. Messages and
manual actions it produced stay (without the workflow); queued manual actions of runs still open
are deleted, as nobody is waiting on them any more. Notes stay on the contact.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import jsonify, make_response
from marshmallow import Schema, fields, validate
from sqlalchemy import delete, select, update

from builder import live
from builder.access import EDITORS
from builder.api.workflow_common import bp, find_workflow, retiring_clause
from builder.auth import require_role
from builder.extensions import db
from builder.models import Enrollment, ManualAction, Note, Workflow, utcnow
from builder.workflow_stats import OPEN, open_runs


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
    if active and choice == "finish":
        # Retiring (see workflow_common): hidden, and unpublished so that triggers and enrolling stop.
        now = utcnow()
        wf.published_version_id, wf.deleted_at, wf.updated_at = None, now, now
        db.session.commit()
        return make_response(jsonify({"id": workflow_id, "status": "finishing", "active": active}), 202)
    deleted_actions = remove_workflow(wf.id)
    db.session.commit()
    publish_deleted(deleted_actions)
    return None


def remove_workflow(workflow_id: int) -> list[int]:
    """Remove the workflow in the caller's transaction; returns the manual actions it deleted, to
    publish once committed."""
    now = utcnow()
    open_run_ids = select(Enrollment.id).where(Enrollment.workflow_id == workflow_id, Enrollment.status.in_(OPEN))
    action_ids = list(db.session.scalars(select(ManualAction.id).where(
        ManualAction.enrollment_id.in_(open_run_ids), ManualAction.status == "queued")))
    if action_ids:
        db.session.execute(update(ManualAction).where(ManualAction.id.in_(action_ids), ManualAction.status == "queued")
                           .values(status="deleted", deleted_at=now, updated_at=now))
    # Notes keep no link to what goes (their foreign keys do not cascade): the contact keeps the note.
    db.session.execute(update(Note).where(Note.workflow_id == workflow_id).values(workflow_id=None, enrollment_id=None))
    db.session.execute(update(Workflow).where(Workflow.id == workflow_id).values(published_version_id=None))
    db.session.execute(delete(Workflow).where(Workflow.id == workflow_id))  # the database cascades the rest
    return action_ids


def publish_deleted(action_ids: list[int]) -> None:
    if action_ids:
        live.publish_actions(db.session.scalars(select(ManualAction).where(ManualAction.id.in_(action_ids))),
                             "deleted")


def remove_finished(workflow_ids: Iterable[int]) -> list[int]:
    """Remove the retiring workflows among these that nobody is in any more (after a pass has
    committed). Returns the ids removed."""
    ids = sorted(set(workflow_ids))
    if not ids:
        return []
    retiring = list(db.session.scalars(select(Workflow.id).where(Workflow.id.in_(ids), retiring_clause())))
    removed = [wid for wid in retiring if open_runs(wid, test=None) == 0]
    for wid in removed:
        remove_workflow(wid)
    db.session.commit()
    return removed
