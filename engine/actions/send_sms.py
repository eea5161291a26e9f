from marshmallow import Schema

from engine.actions.fields import SMS_MAX, message
from engine.registry import Action, Outcome, Result, register
from engine.send_window import next_opening


class SendSmsConfig(Schema):
    message = message()


@register
class SendSms(Action):
    type = "send_sms"
    label = "Send SMS"
    category = "Communication"
    description = "Sends an SMS to the contact through the account's provider."
    schema = SendSmsConfig

    def run(self, ctx):
        contact = ctx.contact
        # Skipped sends are logged with the reason and the run goes on, as users expect.
        if not contact.phone:
            return Result.skip(ctx.step.next, "contact has no valid phone number")
        if contact.dnd_sms:
            return Result.skip(ctx.step.next, "contact has SMS do-not-disturb on")
        body = ctx.render(ctx.config["message"])
        if not body.strip():
            return Result.skip(ctx.step.next, "message rendered empty")
        if len(body) > SMS_MAX:
            return Result.skip(ctx.step.next, f"message is longer than {SMS_MAX} characters after merge fields")
        opens = next_opening(ctx.settings.get("send_window"), contact.timezone, ctx.now)
        if opens is not None:
            # Held, not skipped: the run waits here and sends when the window opens.
            return Result(Outcome.WAITING, wake_at=opens, output={"reason": "outside the send window",
                                                                  "until": opens.isoformat()})
        # Queued in the outbox in the step's transaction; sent after it commits.
        message_id = ctx.store.queue_message(ctx.run, contact, body, ctx.key)
        return Result.go(ctx.step.next, message_id=message_id, to=contact.phone, body=body)

    def resume(self, ctx, event):
        return self.run(ctx)  # the window has opened: check everything again, then send
