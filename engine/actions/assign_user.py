"""Assign the contact to one user, or round-robin over several (equal or weighted)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.registry import Action, Result, register


class AssignUserConfig(Schema):
    user_ids = fields.List(fields.Integer(strict=True), required=True, validate=validate.Length(min=1, max=100),
                           metadata={"kind": "users", "label": "Users",
                                     "help": "Several users share contacts round-robin."})
    split = fields.String(load_default="equal", validate=validate.OneOf(["equal", "weighted"]),
                          metadata={"label": "Traffic split", "choice_labels": {"equal": "Evenly",
                                                                                "weighted": "Weighted"}})
    weights = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=1000)), load_default=None,
                          metadata={"help": "One weight per user, in the same order.",
                                    "required_if": {"field": "split", "value": "weighted"},
                                    "shown_if": {"field": "split", "in": ["weighted"]}})
    only_unassigned = fields.Boolean(load_default=False, metadata={"label": "Only apply to unassigned contacts"})

    @validates_schema
    def _weights_match(self, data, **_):
        if len(set(data["user_ids"])) != len(data["user_ids"]):
            raise ValidationError("Each user may appear once.", "user_ids")
        weights = data.get("weights")
        if data["split"] == "weighted" and (not weights or len(weights) != len(data["user_ids"])):
            raise ValidationError("Give one weight per user.", "weights")


def weighted_sequence(weights: list[int]) -> list[int]:
    """Smooth weighted round-robin (as nginx does): indexes interleaved, not bunched."""
    current = [0] * len(weights)
    total = sum(weights)
    order = []
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        best = max(range(len(weights)), key=current.__getitem__)
        current[best] -= total
        order.append(best)
    return order


@register
class AssignUser(Action):
    type = "assign_user"
    label = "Assign To User"
    category = "Contact"
    description = "Assigns the contact to a user; several users share contacts round-robin."
    schema = AssignUserConfig
    outputs = {"user_id": "Assigned user id"}

    def run(self, ctx):
        cfg = ctx.config
        if cfg["only_unassigned"] and ctx.contact.assigned_user_id is not None:
            return Result.skip(ctx.step.next, "contact already assigned", user_id=ctx.contact.assigned_user_id)
        # Deactivated (or deleted) users drop out of the rotation; weights follow their users.
        active = set(ctx.store.active_user_ids(cfg["user_ids"]))
        pairs = [
            (uid, (cfg["weights"][i] if cfg["split"] == "weighted" else 1))
            for i, uid in enumerate(cfg["user_ids"])
            if uid in active
        ]
        if not pairs:
            return Result.skip(ctx.step.next, "none of the chosen users is active", user_ids=cfg["user_ids"])
        if len(pairs) == 1:
            user_id = pairs[0][0]
        else:
            order = weighted_sequence([w for _, w in pairs])
            turn = ctx.store.next_in_rotation(f"{ctx.run.workflow_id}:{ctx.step.id}")
            user_id = pairs[order[turn % len(order)]][0]
        ctx.store.assign(ctx.contact, user_id)
        return Result.go(ctx.step.next, user_id=user_id)
