"""Modify Contact Engagement Score: add to, subtract from or set the contact's score (an integer, 0 to start)."""

from marshmallow import Schema, fields, validate

from engine.registry import Action, Result, register

AMOUNT_MAX = 1_000_000
# The score stays within what a 32-bit column holds, however many steps add to it.
SCORE_LIMIT = 1_000_000_000
OPERATIONS = {"add": "Add", "subtract": "Subtract", "set": "Set to"}


class ModifyEngagementScoreConfig(Schema):
    operation = fields.String(load_default="add", validate=validate.OneOf(list(OPERATIONS)),
                              metadata={"label": "Operation", "choice_labels": OPERATIONS})
    amount = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=0, max=AMOUNT_MAX),
                            metadata={"label": "Points"})


def new_score(score: int, operation: str, amount: int) -> int:
    value = {"add": score + amount, "subtract": score - amount, "set": amount}[operation]
    return max(-SCORE_LIMIT, min(SCORE_LIMIT, value))


@register
class ModifyEngagementScore(Action):
    type = "modify_engagement_score"
    label = "Modify Contact Engagement Score"
    category = "Contact"
    description = "Adjusts a contact's engagement score: add or subtract points, or set it."
    schema = ModifyEngagementScoreConfig
    outputs = {"score": "New score", "before": "Score before"}

    def run(self, ctx):
        cfg = ctx.config
        before = ctx.contact.engagement_score or 0
        score = new_score(before, cfg["operation"], cfg["amount"])
        if score == before:
            return Result.skip(ctx.step.next, f"the score stays {score}", operation=cfg["operation"],
                               amount=cfg["amount"], score=score)
        ctx.store.set_engagement_score(ctx.contact, score)
        return Result.go(ctx.step.next, operation=cfg["operation"], amount=cfg["amount"], before=before, score=score)
