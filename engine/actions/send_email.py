"""Send Email: a subject, a plain-text body and an optional HTML body, with merge fields, to the contact.

Queued in the email outbox in the step's transaction and sent after it commits (jobqueue.email_outbox),
from the account's sender (Settings > Email). Like Send SMS, automated email keeps to the workflow's send
window and the account's quiet hours: outside them the run waits at the step and checks again.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate

from engine import merge
from engine.actions.failures import ERROR_OUTPUT, FAILURE_FIELD, failure_exit, policy_fields, retry_policy
from engine.actions.fields import Template
from engine.actions.send_sms import _why_held
from engine.quiet_hours import NoOverlap, next_send_time
from engine.registry import Action, Outcome, Result, register

SUBJECT_MAX = 300
BODY_MAX = 100_000
_is_address = validate.Email()


class SendEmailConfig(Schema):
    subject = Template(required=True, validate=validate.Length(min=1, max=SUBJECT_MAX),
                       metadata={"label": "Subject", "example": "Hi {{ contact.first_name }}"})
    text_body = Template(required=True, validate=validate.Length(min=1, max=BODY_MAX),
                         metadata={"label": "Plain-text body",
                                   "help": "Every email also carries an unsubscribe link, added below the text."})
    html_body = Template(load_default="", validate=validate.Length(max=BODY_MAX),
                         metadata={"label": "HTML body (optional)",
                                   "help": "Merged values are HTML-escaped. Without it, the email is plain text."})
    retry_attempts, retry_backoff_seconds, failure_next = policy_fields()


def valid_address(address: str | None) -> bool:
    try:
        _is_address((address or "").strip())
    except ValidationError:
        return False
    return True


@register
class SendEmail(Action):
    type = "send_email"
    label = "Send Email"
    category = "Communication"
    description = "Sends an email to the contact from the account's sender (Settings > Email)."
    schema = SendEmailConfig
    outputs = {"subject": "Subject sent", "to": "Address emailed", **ERROR_OUTPUT}
    exit_layout = {"kind": "next", "failure": FAILURE_FIELD}

    def exit_fields(self, step):
        return [*super().exit_fields(step), failure_exit(step)]

    def run(self, ctx):
        contact = ctx.contact
        # Skipped sends are logged with the reason and the run goes on, as with Send SMS.
        if not contact.email:
            return Result.skip(ctx.step.next, "contact has no email address")
        if not valid_address(contact.email):
            return Result.skip(ctx.step.next, f"contact's email address {contact.email!r} is not valid")
        if contact.dnd_email:
            return Result.skip(ctx.step.next, "contact has email do-not-disturb on")
        subject = " ".join(ctx.render(ctx.config["subject"]).split())  # one header line
        text = ctx.render(ctx.config["text_body"])
        html_body = ctx.config.get("html_body") or ""
        html = merge.render_html(html_body, contact, steps=ctx.run.vars, custom_values=ctx.custom_values(html_body))
        if not subject or not text.strip():
            return Result.skip(ctx.step.next, "subject or text body is empty after merge fields")
        window, quiet = ctx.settings.get("send_window"), ctx.store.quiet_hours()
        try:
            opens = next_send_time(window, quiet, contact.timezone, ctx.now)
        except NoOverlap as exc:
            return Result.skip(ctx.step.next, str(exc))
        if opens is not None:
            return Result(Outcome.WAITING, wake_at=opens, output={
                "reason": _why_held(window, quiet, contact.timezone, ctx.now), "until": opens.isoformat()})
        email_id = ctx.store.queue_email(ctx.run, contact, subject=subject[:SUBJECT_MAX], text=text,
                                         html=html or None, key=ctx.key,
                                         **({"retry": policy} if (policy := retry_policy(ctx.config)) else {}))
        return Result.go(ctx.step.next, email_id=email_id, to=contact.email, subject=subject)

    def resume(self, ctx, event):
        return self.run(ctx)  # the window has opened: check everything again, then send
