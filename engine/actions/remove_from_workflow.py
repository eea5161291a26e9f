"""Remove from Workflow: end this run, or the contact's open runs in chosen workflows, or in every other
workflow. Removed runs end as cancelled with a reason naming the step and its workflow, and their queued
manual actions leave the queue (the store locks each run it ends, so a run another worker is moving is
ended after that worker's pass, never under it). A test run removes only the contact's test runs.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.actions.add_to_workflow import workflow_id_field
from engine.registry import Action, Outcome, Result, register

THIS, CHOSEN, ALL_OTHERS = "this", "chosen", "all_others"


class RemoveFromWorkflowConfig(Schema):
    target = fields.String(load_default=THIS, validate=validate.OneOf([THIS, CHOSEN, ALL_OTHERS]), metadata={
        "label": "Remove the contact from",
        "choice_labels": {THIS: "This workflow", CHOSEN: "Chosen workflows", ALL_OTHERS: "Every other workflow"}})
    workflow_ids = fields.List(workflow_id_field(), load_default=None, validate=validate.Length(max=100), metadata={
        "kind": "workflows", "label": "Workflows",
        "required_if": {"field": "target", "value": CHOSEN}, "shown_if": {"field": "target", "in": [CHOSEN]}})

    @validates_schema
    def _chosen(self, data, **_):
        if data["target"] == CHOSEN and not data.get("workflow_ids"):
            raise ValidationError("Choose at least one workflow.", "workflow_ids")
        ids = data.get("workflow_ids") or []
        if len(set(ids)) != len(ids):
            raise ValidationError("Each workflow may appear once.", "workflow_ids")


@register
class RemoveFromWorkflow(Action):
    type = "remove_from_workflow"
    label = "Remove from Workflow"
    category = "Internal Tools"
    description = "Removes the contact from this workflow, chosen workflows, or every other workflow."
    schema = RemoveFromWorkflowConfig
    outputs = {"removed": "Runs removed"}

    def run(self, ctx):
        cfg = ctx.config
        name = ctx.step.name or self.label
        reason = f"removed by step {ctx.step.id} ({name}) of workflow {ctx.run.workflow_id}"
        if cfg["target"] == THIS:
            dropped = ctx.store.drop_queued_actions(ctx.run)
            return Result(Outcome.CANCELLED, output={"target": THIS, "removed_actions": dropped}, error=reason)
        ids = cfg["workflow_ids"] if cfg["target"] == CHOSEN else None
        ended = ctx.store.end_runs(ctx.run, ctx.contact, ids, reason)
        output = {"target": cfg["target"], "removed": len(ended), "runs": ended}
        if not ended:
            return Result.skip(ctx.step.next, "the contact had no open run to remove", **output)
        return Result.go(ctx.step.next, **output)
