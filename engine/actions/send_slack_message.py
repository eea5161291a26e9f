"""Send Slack message: a text with merge fields, posted to the account's Slack incoming webhook.

It takes the Webhook's path (engine.actions.webhook): stored in the pass, sent by a job with
the same retries and address checks, the run parked until Slack answers. The URL is a
secret of the account (Settings > Integrations), read by the job when it sends, so it
never sits in a request row or a log.
"""

from __future__ import annotations

import json

from marshmallow import Schema, validate

from engine.actions.failures import ERROR_OUTPUT, FAILURE_FIELD, failure_exit, policy_fields
from engine.actions.fields import Template
from engine.actions.webhook import outbound_outcome, park_request
from engine.registry import Action, Result, register

TEXT_MAX = 4000  # Slack shows up to 4,000 characters of a message's text


class SendSlackMessageConfig(Schema):
    text = Template(required=True, validate=validate.Length(min=1, max=TEXT_MAX),
                    metadata={"label": "Message", "help": "Posted to the Slack channel of Settings > Integrations."})
    retry_attempts, retry_backoff_seconds, failure_next = policy_fields()


@register
class SendSlackMessage(Action):
    type = "send_slack_message"
    label = "Send Slack Message"
    category = "Communication"
    description = "Posts a message with merge fields to the account's Slack channel (incoming webhook)."
    schema = SendSlackMessageConfig
    outputs = {"text": "Text sent", "status": "Slack's response status", **ERROR_OUTPUT}
    exit_layout = {"kind": "next", "failure": FAILURE_FIELD}

    def exit_fields(self, step):
        return [*super().exit_fields(step), failure_exit(step)]

    def run(self, ctx):
        if not ctx.store.slack_configured():
            return Result.skip(ctx.step.next, "no Slack incoming-webhook URL is set (Settings > Integrations)")
        text = ctx.render(ctx.config["text"])
        if not text.strip():
            return Result.skip(ctx.step.next, "rendered text is empty")
        body = json.dumps({"text": text[:TEXT_MAX]}, ensure_ascii=False)
        result = park_request(ctx, kind="slack", method="POST", url=None, headers=[], body=body,
                              content_type="application/json", timeout_seconds=10, retries=3)
        result.output["text"] = text
        return result

    def resume(self, ctx, event):
        return outbound_outcome(ctx, event)
