"""Failures a workflow can act on: the retry policy and the "on failure" exit of the steps that reach outside
(Send SMS, Send Email, Webhook, Send Slack Message, Call).

`retry_attempts` and `retry_backoff_seconds` say how often, and how far apart, the job layer tries again what
the outside refused for now (a provider's 429/5xx, no connection, a receiver's 5xx): the outbox for texts and
emails, the outbound sender for webhooks and Slack, the call placer for calls. Left empty, today's behaviour
stands (the app's *_RETRY_DELAYS, a webhook's own Retries). A send whose outcome is unknown (the line dropped
mid-send) is never retried blindly: the outboxes' rules are unchanged.

`failure_next`, when set, is the step a failed step's run goes on at instead of failing; the log still
records the failure, and the error is the step's `error` output ({{ steps.<id>.error }}).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from engine.step import Step

RETRY_ATTEMPTS_MAX = 10
BACKOFF_MAX = 3600
FAILURE_FIELD = "failure_next"
ERROR_OUTPUT = {"error": "Error (when the step failed and took its On failure exit)"}


def policy_fields() -> tuple[fields.Integer, fields.Integer, fields.String]:
    """retry_attempts, retry_backoff_seconds, failure_next: declared last in each config schema that reaches
    outside (`retry_attempts, retry_backoff_seconds, failure_next = policy_fields()`), so forms show them last."""
    retry_attempts = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=RETRY_ATTEMPTS_MAX),
        metadata={"label": "Retry attempts",
                  "help": "Further tries after a temporary refusal (0-10). Empty: the account's default."})
    retry_backoff_seconds = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=BACKOFF_MAX),
        metadata={"label": "Retry backoff (seconds)",
                  "help": "Wait before the first retry, doubled for each next one. Empty: the default delays."})
    failure_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})
    return retry_attempts, retry_backoff_seconds, failure_next


def failure_exit(step: Step) -> tuple[str, str | None]:
    return (f"config.{FAILURE_FIELD}", step.config.get(FAILURE_FIELD))


def retry_policy(config: dict[str, Any]) -> dict[str, int] | None:
    """{"max_attempts", "retry_backoff_seconds"?} for the job layer, or None to keep the defaults."""
    if config.get("retry_attempts") is None and config.get("retry_backoff_seconds") is None:
        return None
    policy: dict[str, int] = {}
    if config.get("retry_attempts") is not None:
        policy["max_attempts"] = config["retry_attempts"] + 1
    if config.get("retry_backoff_seconds") is not None:
        policy["retry_backoff_seconds"] = config["retry_backoff_seconds"]
    return policy


def retry_delay(attempts: int, backoff: int | None, default_delays: list[int]) -> int:
    """The wait before attempt `attempts + 1`: the step's exponential backoff, or the default delays
    (their last one repeated when the step allows more attempts than they list)."""
    if backoff is not None:
        return min(backoff * 2 ** (attempts - 1), 24 * 3600)
    if not default_delays:
        return 0
    return default_delays[min(attempts, len(default_delays)) - 1]


def may_retry(attempts: int, max_attempts: int | None, default_delays: list[int]) -> bool:
    """Whether a temporary refusal after `attempts` tries is tried again."""
    if max_attempts is None:
        return attempts <= len(default_delays)  # today's rule: one retry per configured delay
    return attempts < max_attempts
