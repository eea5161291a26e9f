"""Call (HighLevel's automated Call): ring the contact; when they answer, ring the assigned user (or a
chosen number), whisper the contact's name to them, and bridge the two.

The step stores the call (Store.queue_call) in its pass's transaction and waits: a job places it
after the commit, through the account's provider (Twilio, or the console provider, which simulates
an outcome). When the call has ended, the job layer resumes the run with the event
"call:<call id>" and the contact leaves by "Answered" or "Not answered" (no answer, busy,
voicemail, failed). A lost status callback cannot hold the run for ever: after `timeout_minutes`
the step's timer asks the job layer to fetch the outcome from the provider (or record it as
failed), and the run goes on when that is done.

Like Send SMS, the step honours call do-not-disturb and holds the call until the send window and
the quiet hours allow it; a held run checks everything again when it wakes.
"""

from __future__ import annotations

import re
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.actions.failures import ERROR_OUTPUT, FAILURE_FIELD, failure_exit, policy_fields, retry_policy
from engine.quiet_hours import NoOverlap, allowed_now, next_send_time
from engine.registry import Action, Outcome, Result, register

EVENT_PREFIX = "call:"
TIMER = "timer"
ANSWERED = "answered"
OUTCOMES = ("answered", "no_answer", "busy", "voicemail", "failed")
CONNECT_TO = {"assigned_user": "The contact's assigned user", "number": "A phone number"}
_PHONE = re.compile(r"^\+?[0-9 ()./-]{7,25}$")


class CallConfig(Schema):
    connect_to = fields.String(load_default="assigned_user", validate=validate.OneOf(list(CONNECT_TO)),
                               metadata={"label": "When they answer, ring", "choice_labels": CONNECT_TO})
    number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=25),
                           metadata={"label": "Phone number", "example": "+12025550123",
                                     "help": "In international format, e.g. +12025550123.",
                                     "required_if": {"field": "connect_to", "value": "number"},
                                     "shown_if": {"field": "connect_to", "in": ["number"]}})
    whisper = fields.Boolean(load_default=True, metadata={
        "label": "Whisper the contact's name first",
        "help": "The person who picks up hears who is calling before the contact is connected."})
    timeout_minutes = fields.Integer(strict=True, load_default=10, validate=validate.Range(min=1, max=240),
                                     metadata={"label": "Give up waiting for the outcome after (minutes)"})
    answered_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})
    not_answered_next = fields.String(load_default=None, allow_none=True, metadata={"kind": "step"})
    retry_attempts, retry_backoff_seconds, failure_next = policy_fields()

    @validates_schema
    def _number_given(self, data, **_):
        if data["connect_to"] == "number":
            number = (data.get("number") or "").strip()
            if not number:
                raise ValidationError("Enter the phone number to ring when the contact answers.", "number")
            if not _PHONE.match(number):
                raise ValidationError("Not a phone number: use the international format, e.g. +12025550123.",
                                      "number")


@register
class Call(Action):
    type = "call"
    label = "Call"
    category = "Communication"
    description = ("Calls the contact; if they pick up, rings the assigned user (or a number) and connects them. "
                   "The contact goes down Answered or Not answered.")
    schema = CallConfig
    outputs = {"outcome": "Outcome (answered, no_answer, busy, voicemail, failed)",
               "duration_seconds": "Duration (seconds)", **ERROR_OUTPUT}
    pauses = True
    exit_layout = {"kind": "named", "exits": [{"field": "answered_next", "label": "Answered"},
                                              {"field": "not_answered_next", "label": "Not answered"}],
                   "failure": FAILURE_FIELD}

    def exit_fields(self, step):
        return [("config.answered_next", step.config.get("answered_next")),
                ("config.not_answered_next", step.config.get("not_answered_next")), failure_exit(step)]

    def run(self, ctx):
        cfg, contact = ctx.config, ctx.contact
        not_answered = cfg["not_answered_next"]
        # Calls that cannot be made are logged with the reason and the contact goes down Not answered.
        if not contact.phone:
            return Result.skip(not_answered, "contact has no valid phone number", outcome="failed")
        if contact.dnd_call:
            return Result.skip(not_answered, "contact has call do-not-disturb on", outcome="failed")
        bridge, problem = _bridge_number(ctx)
        if bridge is None:
            return Result.skip(not_answered, problem or "no number to connect the contact to", outcome="failed")
        window, quiet = ctx.settings.get("send_window"), ctx.store.quiet_hours()
        try:
            opens = next_send_time(window, quiet, contact.timezone, ctx.now)
        except NoOverlap as exc:
            return Result.skip(not_answered, str(exc), outcome="failed")
        if opens is not None:
            # Held: the run waits and checks everything again when the window and the hours allow.
            return Result(Outcome.WAITING, wake_at=opens, output={
                "reason": _why_held(window, quiet, contact.timezone, ctx.now), "until": opens.isoformat()})
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p).strip()
        whisper = (name or "a contact") if cfg["whisper"] else None
        call_id = ctx.store.queue_call(ctx.run, contact, step_id=ctx.step.id, bridge_number=bridge,
                                       whisper_name=whisper, key=ctx.key,
                                       **({"retry": policy} if (policy := retry_policy(cfg)) else {}))
        wake_at = ctx.now + timedelta(minutes=cfg["timeout_minutes"])
        return Result(Outcome.WAITING, wake_at=wake_at, output={
            "call_id": call_id, "to": contact.phone, "connect_to": bridge, "status": "queued",
            "until": wake_at.isoformat(), "reason": "calling; the run goes on when the call has ended"})

    def resume(self, ctx, event):
        if event.startswith(EVENT_PREFIX):
            call_id = _int(event.removeprefix(EVENT_PREFIX))
            done = ctx.store.call_result(call_id) if call_id is not None else None
            if done is None or done.get("outcome") is None:
                return Result(Outcome.FAILED, error=f"no finished call for this step (resumed by {event!r})")
            return _leave(ctx, done, event)
        # A timer: either a held call's window has opened, or the wait for a placed call's outcome ran out.
        placed = ctx.store.call_for_key(f"{ctx.run.id}:{ctx.run.seq - 1}")
        if placed is None:
            return self.run(ctx)
        if placed.get("outcome") is not None:
            return _leave(ctx, placed, event)
        # No outcome in time (a status callback lost?): the job layer asks the provider, records what it
        # says (failed if it cannot tell) and resumes the run with "call:<id>".
        ctx.store.check_call(placed["call_id"])
        return Result(Outcome.PARKED, output={
            "call_id": placed["call_id"], "status": placed.get("status"),
            "reason": f"no outcome within {ctx.config['timeout_minutes']} minutes; asking the provider"})


def _leave(ctx, done: dict, event: str) -> Result:
    output = {k: done[k] for k in ("call_id", "outcome", "status", "answered_by", "duration_seconds", "error")
              if done.get(k) is not None}
    output["resumed_by"] = event
    target = ctx.config["answered_next"] if done["outcome"] == ANSWERED else ctx.config["not_answered_next"]
    return Result.go(target, **output)


def _why_held(window, quiet, zone: str, now) -> str:
    reasons = []
    if not allowed_now(window, None, zone, now):
        reasons.append("outside the send window")
    if not allowed_now(None, quiet, zone, now):
        reasons.append(f"quiet hours (the account calls only {quiet['start']}-{quiet['end']}, contact's time)")
    return " and ".join(reasons)


def _bridge_number(ctx) -> tuple[str | None, str | None]:
    """The number to ring once the contact answers, or None and why there is none."""
    cfg = ctx.config
    if cfg["connect_to"] == "number":
        try:
            return ctx.store.normalize_phone(cfg["number"] or ""), None
        except ValueError as exc:
            return None, f"the number to connect to is not valid: {exc}"
    user_id = ctx.contact.assigned_user_id
    if user_id is None or not ctx.store.active_user_ids([user_id]):
        return None, "contact has no active assigned user to connect the call to"
    phone = ctx.store.user_phones([user_id]).get(user_id)
    if not phone:
        return None, "the assigned user has no phone number in their profile"
    return phone, None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 10 else None
