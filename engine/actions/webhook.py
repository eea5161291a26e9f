"""Webhook (HighLevel's Webhook / Custom Webhook): an HTTP request to another system, with merge fields.

The step renders the request and stores it (Store.queue_outbound_request) in its pass's
transaction, then parks the run: nothing goes on the line while the pass holds its database
transaction. A job sends it after the commit, signs it, retries what a receiver refuses for
now, and resumes the run with the event "outbound:<request id>"; `resume` then puts the
response (or the reason it failed) in the step's output.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import merge
from engine.actions.failures import ERROR_OUTPUT, FAILURE_FIELD, failure_exit, policy_fields, retry_policy
from engine.actions.fields import Template
from engine.registry import Action, Outcome, Result, register

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
WITH_BODY = ["POST", "PUT", "PATCH", "DELETE"]
BODY_TYPES = ["json", "form", "none"]
URL_MAX = 2000
BODY_MAX = 100_000
TIMEOUT_MAX = 30  # seconds per attempt
RETRIES_MAX = 5
EVENT_PREFIX = "outbound:"
# Names the signature, idempotency and length are ours to set.
RESERVED_HEADERS = frozenset({"x-flowdesk-timestamp", "x-flowdesk-signature", "idempotency-key", "content-length",
                              "host", "transfer-encoding", "connection"})
_HEADER_NAME = validate.Regexp(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}\Z", error="Use letters, digits and - only.")


def _http_url(value: str) -> None:
    if not value.strip().lower().startswith(("http://", "https://")):
        raise ValidationError("The URL must start with http:// or https://.")


class JsonTemplate(Template):
    """A JSON document whose strings may hold merge fields: each string is rendered on its own, so
    a contact's value can never break the JSON (merge fields go inside strings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return text
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ValidationError(
                f"Not valid JSON ({exc.msg}, line {exc.lineno}); merge fields go inside strings, "
                'as in {"name": "{{ contact.first_name }}"}.') from exc
        for string in _strings(document):
            try:
                merge.check(string)
            except merge.MergeFieldError as exc:
                raise ValidationError(f"Merge field error: {exc}") from exc
        return text


class HeaderSchema(Schema):
    name = fields.String(required=True, validate=_HEADER_NAME, metadata={"example": "X-Source"})
    value = Template(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _not_ours(self, data, **_):
        if data["name"].lower() in RESERVED_HEADERS:
            raise ValidationError(f"{data['name']} is set by flowdesk on every request.", "name")


class ParamSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "source"})
    value = Template(load_default="", validate=validate.Length(max=2000))


class WebhookConfig(Schema):
    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS))
    url = Template(required=True, validate=[validate.Length(min=1, max=URL_MAX), _http_url],
                   metadata={"label": "URL", "example": "https://example.com/hooks/flowdesk",
                             "help": "http:// or https://; merge fields allowed (rendered per contact)."})
    headers = fields.List(fields.Nested(HeaderSchema, metadata={"label": "Header"}), load_default=list,
                          validate=validate.Length(max=30))
    query = fields.List(fields.Nested(ParamSchema, metadata={"label": "Parameter"}), load_default=list,
                        validate=validate.Length(max=50), metadata={"label": "Query parameters"})
    body_type = fields.String(load_default="json", validate=validate.OneOf(BODY_TYPES),
                              metadata={"label": "Body", "shown_if": {"field": "method", "in": WITH_BODY},
                                        "choice_labels": {"json": "JSON", "form": "Form fields", "none": "None"}})
    body = JsonTemplate(load_default="", validate=validate.Length(max=BODY_MAX),
                        metadata={"label": "JSON body", "shown_if": {"field": "body_type", "in": ["json"]},
                                  "help": 'Merge fields go inside strings: {"name": "{{ contact.first_name }}"}. '
                                          "Empty: the contact's standard fields."})
    form = fields.List(fields.Nested(ParamSchema, metadata={"label": "Field"}), load_default=list,
                       validate=validate.Length(max=50),
                       metadata={"label": "Form fields", "shown_if": {"field": "body_type", "in": ["form"]}})
    timeout_seconds = fields.Integer(strict=True, load_default=10, validate=validate.Range(min=1, max=TIMEOUT_MAX),
                                     metadata={"label": "Timeout (seconds)", "help": "For each attempt."})
    retries = fields.Integer(strict=True, load_default=3, validate=validate.Range(min=0, max=RETRIES_MAX),
                             metadata={"help": "Further attempts after a connection error, a timeout, 429 or 5xx "
                                                       "(Retry attempts below, when set, takes its place)."})
    retry_attempts, retry_backoff_seconds, failure_next = policy_fields()


@register
class Webhook(Action):
    type = "webhook"
    label = "Webhook"
    category = "Send Data"
    description = "Sends an HTTP request (signed, with merge fields) to another system and logs its response."
    schema = WebhookConfig
    outputs = {"status": "Response status", "body": "Response body", "headers": "Response headers", **ERROR_OUTPUT}
    exit_layout = {"kind": "next", "failure": FAILURE_FIELD}

    def exit_fields(self, step):
        return [*super().exit_fields(step), failure_exit(step)]

    def run(self, ctx):
        cfg = ctx.config
        url = ctx.render(cfg["url"]).strip()
        problem = url_problem(url)
        if problem:
            return Result(Outcome.FAILED, output={"url": url}, error=problem)
        pairs = [(p["name"], ctx.render(p["value"])) for p in cfg["query"]]
        if pairs:
            url += ("&" if urlsplit(url).query else "?") + urlencode(pairs)
        headers = [[h["name"], ctx.render(h["value"])] for h in cfg["headers"]]
        body, content_type = None, None
        if cfg["method"] in WITH_BODY and cfg["body_type"] == "json":
            document = _render_json(ctx, cfg["body"]) if cfg["body"].strip() else default_payload(ctx)
            body, content_type = json.dumps(document, ensure_ascii=False, separators=(",", ":")), "application/json"
        elif cfg["method"] in WITH_BODY and cfg["body_type"] == "form":
            body = urlencode([(f["name"], ctx.render(f["value"])) for f in cfg["form"]])
            content_type = "application/x-www-form-urlencoded"
        return park_request(ctx, kind="webhook", method=cfg["method"], url=url, headers=headers, body=body,
                            content_type=content_type, timeout_seconds=cfg["timeout_seconds"],
                            retries=cfg["retries"])

    def resume(self, ctx, event):
        return outbound_outcome(ctx, event)


def url_problem(url: str) -> str | None:
    """Why a rendered URL cannot be requested, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        return f"the URL {url[:200]!r} is not valid: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the URL {url[:200]!r} is not an http(s) URL with a host (check its merge fields)"
    if len(url) > URL_MAX:
        return f"the URL is longer than {URL_MAX} characters after merge fields"
    return None


def default_payload(ctx) -> dict[str, Any]:
    """What a webhook without a body of its own sends: the contact's standard and custom fields."""
    return merge.contact_context(ctx.contact)["contact"] | {"workflow_id": ctx.run.workflow_id,
                                                             "step_id": ctx.step.id}


def park_request(ctx, *, kind: str, method: str, url: str | None, headers: list[list[str]], body: str | None,
                 content_type: str | None, timeout_seconds: int, retries: int) -> Result:
    """Store the request for the job layer to send after the commit, and park the run until it is done."""
    request = {"kind": kind, "method": method, "url": url, "headers": headers, "body": body,
               "content_type": content_type, "timeout_seconds": timeout_seconds, "max_attempts": retries + 1}
    request.update(retry_policy(ctx.config) or {})  # the step's retry policy, when it has one, wins
    request_id = ctx.store.queue_outbound_request(ctx.run, ctx.step.id, request, ctx.key)
    output = {"request_id": request_id, "method": method, "idempotency_key": ctx.key, "status": "queued",
              "reason": "sending; the run goes on when the receiver has answered"}
    if url is not None:
        output["url"] = url
    return Result(Outcome.PARKED, next=ctx.step.next, output=output)


def outbound_outcome(ctx, event: str) -> Result:
    """The step's result once its request is done: the response in the output, or the reason it failed."""
    request_id = int(event.removeprefix(EVENT_PREFIX)) if event.startswith(EVENT_PREFIX) else None
    done = ctx.store.outbound_result(request_id) if request_id is not None else None
    if done is None:
        return Result(Outcome.FAILED, error=f"no finished request for this step (resumed by {event!r})")
    output = {key: done[key] for key in ("request_id", "status", "attempts", "headers", "body", "truncated")
              if done.get(key) is not None}
    output["resumed_by"] = event
    if done["outcome"] == "succeeded":
        return Result.go(ctx.step.next, **output)
    return Result(Outcome.FAILED, output=output, error=done.get("error") or "the request failed")


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _render_json(ctx, text: str) -> Any:
    def render(value: Any) -> Any:
        if isinstance(value, str):
            return ctx.render(value)
        if isinstance(value, dict):
            return {ctx.render(k): render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v) for v in value]
        return value

    return render(json.loads(text))
