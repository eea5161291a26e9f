"""Add to Workflow: enroll the contact in another published workflow of the account, optionally ending
this run once it has been handed over.

The enrollment goes through the store (the app's enrollment rules: the target's re-entry setting, one
open run per contact and workflow), once per step run: the step run's idempotency key keys it, so a
pass taken again enrolls once. A test run enrolls a test run in the target (never a live one). A
workflow may not add contacts to itself (422 on save), and a chain of workflows that would loop with no
wait is refused on publish (builder.domain.workflow_handoff).
"""

from marshmallow import Schema, fields, validate

from engine.registry import Action, Outcome, Result, register

MAX_WORKFLOW_ID = 2**31 - 1  # workflow ids are 32-bit columns


def workflow_id_field(**metadata) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_WORKFLOW_ID), **metadata)


class AddToWorkflowConfig(Schema):
    workflow_id = workflow_id_field(
        required=True,
        metadata={"kind": "workflow", "label": "Workflow",
                  "help": "A published workflow of your account; the contact starts it at its first step."})
    end_this_workflow = fields.Boolean(load_default=False, metadata={
        "label": "End this workflow after adding",
        "help": "The contact leaves this workflow once it has been added to the other one."})


@register
class AddToWorkflow(Action):
    type = "add_to_workflow"
    label = "Add to Workflow"
    category = "Internal Tools"
    description = "Adds the contact to another published workflow; optionally ends this one."
    schema = AddToWorkflowConfig
    outputs = {"workflow_id": "Workflow id", "run_id": "New run id"}

    def run(self, ctx):
        cfg = ctx.config
        handed = ctx.store.add_to_workflow(ctx.run, ctx.contact, cfg["workflow_id"], ctx.key)
        if handed.get("error"):
            # The target is gone, unpublished or not the account's: a configuration problem to see in the log.
            return Result(Outcome.FAILED, output=handed, error=handed["error"])
        if handed.get("run_id") is None:
            # The target's own rules refused (already in it, or no re-entry): this run goes on.
            return Result(Outcome.SKIPPED, next=ctx.step.next, output=handed)
        if cfg["end_this_workflow"]:
            return Result(Outcome.ENDED, output={**handed, "reason": "handed over; this workflow ends here"})
        return Result.go(ctx.step.next, **handed)
