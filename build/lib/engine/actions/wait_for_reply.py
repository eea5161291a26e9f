"""Wait for customer reply (SMS): go one way when the contact replies, another when the time runs out.

Any inbound SMS from the contact resolves the wait, whatever message went out
last (automated or manual): the job layer resumes every run of the contact that
waits here with the event "reply". The timeout is an ordinary timer; a timer
that fires after the reply is stale (the run's seq has moved on) and does nothing.
"""

from datetime import timedelta

from marshmallow import Schema, fields, validate

from engine.actions.wait import UNITS
from engine.registry import Action, Outcome, Result, register

REPLY = "reply"
TIMER = "timer"


class WaitForReplyConfig(Schema):
    timeout_amount = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=100_000),
                                    metadata={"label": "Time out after"})
    timeout_unit = fields.String(load_default="days", validate=validate.OneOf(["minutes", "hours", "days"]),
                                 metadata={"label": "Unit"})
    replied_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})
    timeout_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})


@register
class WaitForReply(Action):
    type = "wait_for_reply"
    label = "Wait for Customer Reply"
    category = "Communication"
    description = "Waits for an SMS reply; the contact goes down Replied, or No reply when the time runs out."
    schema = WaitForReplyConfig
    pauses = True
    exit_layout = {"kind": "named", "exits": [{"field": "replied_next", "label": "Replied"},
                                              {"field": "timeout_next", "label": "No reply"}]}

    def exit_fields(self, step):
        return [("config.replied_next", step.config.get("replied_next")),
                ("config.timeout_next", step.config.get("timeout_next"))]

    def run(self, ctx):
        cfg = ctx.config
        wake_at = ctx.now + timedelta(seconds=cfg["timeout_amount"] * UNITS[cfg["timeout_unit"]])
        return Result(Outcome.WAITING, next=None, wake_at=wake_at,
                      output={"waiting_for": REPLY, "until": wake_at.isoformat()})

    def resume(self, ctx, event):
        if event == REPLY:
            return Result.go(ctx.config["replied_next"], resumed_by=REPLY)
        return Result.go(ctx.config["timeout_next"], resumed_by=event, reason="no reply in time")
