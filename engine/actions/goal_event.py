"""Goal Event: a point later in the workflow that contacts jump to as soon as they meet its goal.

While a run is at any step that can reach this one (waiting, parked on a manual action, or about
to run), the event that meets the goal (a tag added or removed, an SMS reply, a manual action or
task completed, or a contact field condition coming true) moves it here at once: what it waited on
is dropped (a stale timer does nothing; its queued manual actions leave the queue) and it goes on
after this step. The job layer and the domain notice the events (engine.goals decides which runs
they meet; engine.interpreter.jump moves them).

A contact that reaches the step without having met the goal does what `if_not_met` says: go on
("continue"), wait here until it is met ("wait"), or leave the workflow ("end"). Tags and field
conditions are read as they stand on arrival; a reply or a completion counts only as its event.
"""

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from engine import goals
from engine.actions.if_else import ConditionSchema
from engine.registry import Action, Outcome, Result, register

GOAL = "goal"  # what a run waiting here is resumed with when its goal is met


def condition_fields(kind: str, kinds: tuple[str, ...], prefix: str = "") -> dict[str, fields.Field]:
    """The tag and condition fields of the goal shape, shown for the kinds that use them; shared with
    Wait's "until an event" mode (prefix "event_"). No defaults: a config stores only the part its kind
    uses (and a wait of another mode is stored as it was)."""
    return {
        f"{prefix}tag": fields.String(
            allow_none=True, validate=validate.Length(max=100),
            metadata={"label": "Tag", "shown_if": {"field": kind, "in": goals.TAG_KINDS},
                      "required_if": {"field": kind, "value": goals.TAG_ADDED}}),
        f"{prefix}condition": fields.Nested(
            ConditionSchema, allow_none=True,
            metadata={"label": "Condition", "shown_if": {"field": kind, "in": [goals.FIELD_CONDITION]}}),
    }


def drop_unused(data, kind: str | None, prefix: str = ""):
    """A copy of `data` without the tag or condition its kind does not use: the builder keeps the values of
    hidden fields (a condition half filled in before the goal was changed to a tag), which must not fail a save."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if kind not in goals.TAG_KINDS:
        data.pop(f"{prefix}tag", None)
    if kind != goals.FIELD_CONDITION:
        data.pop(f"{prefix}condition", None)
    return data


def check_goal_shape(cond: dict, kind_field: str, prefix: str = "") -> None:
    missing = goals.missing_field(cond)
    if missing == "tag":
        raise ValidationError("Give the tag to watch for.", f"{prefix}tag")
    if missing == "condition":
        raise ValidationError("Give the contact field condition to watch for.", f"{prefix}condition")


class GoalEventConfig(Schema):
    goal = fields.String(required=True, validate=validate.OneOf(goals.GOAL_KINDS),
                         metadata={"label": "Goal", "choice_labels": goals.KIND_LABELS, "example": goals.TAG_ADDED})
    tag = condition_fields("goal", goals.GOAL_KINDS)["tag"]
    condition = condition_fields("goal", goals.GOAL_KINDS)["condition"]
    if_not_met = fields.String(
        load_default="continue", validate=validate.OneOf(["continue", "wait", "end"]),
        metadata={"label": "If a contact gets here without meeting the goal",
                  "choice_labels": {"continue": "Continue", "wait": "Wait until it is met",
                                    "end": "End the workflow"}})

    @pre_load
    def _unused_parts(self, data, **_):
        return drop_unused(data, data.get("goal") if isinstance(data, dict) else None)

    @validates_schema(skip_on_field_errors=True)
    def _shape(self, data, **_):
        check_goal_shape(data, "goal")


@register
class GoalEvent(Action):
    type = goals.GOAL_STEP
    label = "Goal Event"
    category = "Internal Tools"
    description = "Contacts jump here as soon as they meet the goal, skipping the steps before it."
    schema = GoalEventConfig

    def run(self, ctx):
        cfg = ctx.config
        if goals.state_meets(cfg, ctx.contact):
            return Result.go(ctx.step.next, goal_met=True)
        match cfg["if_not_met"]:
            case "wait":
                # Parked with no timer and no person: the goal's event resumes it (a jump to this step).
                return Result(Outcome.PARKED, output={"goal_met": False, "waiting_for": GOAL})
            case "end":
                return Result(Outcome.ENDED, output={"goal_met": False, "reason": "the goal was not met"})
            case _:
                return Result.skip(ctx.step.next, "the goal was not met", goal_met=False)

    def resume(self, ctx, event):
        return Result.go(ctx.step.next, goal_met=event == GOAL, resumed_by=event)
