"""Shared behaviour of the manual steps: queue a task for a person, park the run."""

from marshmallow import Schema, fields, validate

from engine.registry import Action, Outcome, Result


class ManualConfig(Schema):
    # Default: the run waits at this step until the action is completed or deleted,
    # which makes a manual step an approval checkpoint.
    continue_without_waiting = fields.Boolean(
        load_default=False, metadata={"help": "Off: the contact waits here until the task is done or deleted."})
    name = fields.String(load_default="", validate=validate.Length(max=200),
                         metadata={"label": "Task name", "help": "Shown in the queue; the step's name if empty."})


class ManualStep(Action):
    kind: str
    category = "Communication"
    pauses = True

    def pauses_at(self, step):
        return not step.config.get("continue_without_waiting", False)

    def message(self, ctx) -> str | None:
        return None

    def run(self, ctx):
        cfg = ctx.config
        action_id = ctx.store.create_manual_action(
            ctx.run,
            ctx.contact,
            kind=self.kind,
            name=cfg.get("name") or ctx.step.name or self.label,
            message=self.message(ctx),
            parks=not cfg["continue_without_waiting"],
            step_id=ctx.step.id,
            key=ctx.key,
        )
        output = {"manual_action_id": action_id, "assignee_id": ctx.contact.assigned_user_id}
        if cfg["continue_without_waiting"]:
            return Result.go(ctx.step.next, **output)
        return Result(Outcome.PARKED, next=ctx.step.next, output=output)
