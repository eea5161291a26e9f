from marshmallow import Schema

from engine.actions.failures import ERROR_OUTPUT, FAILURE_FIELD, failure_exit, policy_fields, retry_policy
from engine.actions.fields import SMS_MAX, message
from engine.quiet_hours import NoOverlap, allowed_now, next_send_time
from engine.registry import Action, Outcome, Result, register


class SendSmsConfig(Schema):
    message = message()
    retry_attempts, retry_backoff_seconds, failure_next = policy_fields()


@register
class SendSms(Action):
    type = "send_sms"
    label = "Send SMS"
    category = "Communication"
    description = "Sends an SMS to the contact through the account's provider."
    schema = SendSmsConfig
    outputs = {"body": "Text sent", "to": "Number texted", **ERROR_OUTPUT}
    exit_layout = {"kind": "next", "failure": FAILURE_FIELD}

    def exit_fields(self, step):
        return [*super().exit_fields(step), failure_exit(step)]

    def run(self, ctx):
        contact = ctx.contact
        # Skipped sends are logged with the reason and the run goes on, as users expect.
        if not contact.phone:
            return Result.skip(ctx.step.next, "contact has no valid phone number")
        if contact.dnd_sms:
            return Result.skip(ctx.step.next, "contact has SMS do-not-disturb on")
        body = ctx.render(ctx.config["message"])
        if not body.strip():
            return Result.skip(ctx.step.next, "rendered text is empty")
        if len(body) > SMS_MAX:
            return Result.skip(ctx.step.next, f"message is longer than {SMS_MAX} characters after merge fields")
        window, quiet = ctx.settings.get("send_window"), ctx.store.quiet_hours()
        try:
            opens = next_send_time(window, quiet, contact.timezone, ctx.now)
        except NoOverlap as exc:
            return Result.skip(ctx.step.next, str(exc))
        if opens is not None:
            # Held, not skipped: the run waits here and sends when both the window and the hours allow.
            return Result(Outcome.WAITING, wake_at=opens, output={
                "reason": _why_held(window, quiet, contact.timezone, ctx.now), "until": opens.isoformat()})
        # Queued in the outbox in the step's transaction; sent after it commits.
        policy = retry_policy(ctx.config)  # the outbox retries a provider's temporary refusal under it
        message_id = ctx.store.queue_message(ctx.run, contact, body, ctx.key, **({"retry": policy} if policy else {}))
        return Result.go(ctx.step.next, message_id=message_id, to=contact.phone, body=body)

    def resume(self, ctx, event):
        return self.run(ctx)  # the window has opened: check everything again, then send


def _why_held(window, quiet, zone: str, now) -> str:
    reasons = []
    if not allowed_now(window, None, zone, now):
        reasons.append("outside the send window")
    if not allowed_now(None, quiet, zone, now):
        reasons.append(f"quiet hours (the account texts only {quiet['start']}-{quiet['end']}, contact's time)")
    return " and ".join(reasons)
