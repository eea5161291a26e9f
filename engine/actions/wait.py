"""Wait for a delay, or until a date and time in the contact's own time zone (or until an event: mode
"event", with an Event happened and a Timed out exit; see engine.goals)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from engine import goals
from engine.actions.fields import time_zone
from engine.actions.goal_event import check_goal_shape, condition_fields, drop_unused
from engine.quiet_hours import next_send_time
from engine.registry import Action, Outcome, Result, register
from engine.send_window import DAYS

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
event_condition_fields = condition_fields("event", goals.WAIT_KINDS, prefix="event_")


class WaitConfig(Schema):
    mode = fields.String(load_default="delay", validate=validate.OneOf(["delay", "until", "window", "event"]),
                         metadata={"label": "Wait", "choice_labels": {"delay": "For a time",
                                                                     "until": "Until a date and time",
                                                                     "window": "Until a time window",
                                                                     "event": "Until an event"}})
    amount = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000),
                            metadata={"required_if": {"field": "mode", "value": "delay"},
                                      "shown_if": {"field": "mode", "in": ["delay"]}})
    unit = fields.String(load_default="minutes", validate=validate.OneOf(list(UNITS)),
                         metadata={"shown_if": {"field": "mode", "in": ["delay"]}})
    # A wall-clock time for "until", e.g. "2026-12-01T09:00", read in the contact's zone.
    # Kept as ISO text after loading: graphs are stored as JSON.
    until = fields.NaiveDateTime(metadata={"help": "In the contact's own time zone.",
                                           "required_if": {"field": "mode", "value": "until"},
                                           "shown_if": {"field": "mode", "in": ["until"]}})
    # "window": the days and hours (start inclusive, end exclusive, end after start) the contact may go on
    # in, read in the contact's own zone as a workflow's send window is (engine.send_window).
    window_days = fields.List(fields.String(validate=validate.OneOf(DAYS),
                                            metadata={"choice_labels": {d: d.title() for d in DAYS}}),
                              validate=validate.Length(min=1, max=7),
                              metadata={"label": "On these days", "example": list(DAYS[:5]),
                                        "required_if": {"field": "mode", "value": "window"},
                                        "shown_if": {"field": "mode", "in": ["window"]}})
    window_start = fields.String(validate=validate.Regexp(HHMM, error="Give a time as HH:MM."),
                                 metadata={"label": "From", "kind": "time", "example": "09:00",
                                           "required_if": {"field": "mode", "value": "window"},
                                           "shown_if": {"field": "mode", "in": ["window"]}})
    window_end = fields.String(validate=validate.Regexp(HHMM, error="Give a time as HH:MM."),
                               metadata={"label": "Until", "kind": "time", "example": "17:00",
                                         "help": "In the contact's own time zone; inside the window already, "
                                                 "the contact goes straight on.",
                                         "required_if": {"field": "mode", "value": "window"},
                                         "shown_if": {"field": "mode", "in": ["window"]}})

    # "event": until the contact's event (engine.goals, as a Goal Event's goal) or the timeout, each with its exit.
    event = fields.String(validate=validate.OneOf(goals.WAIT_KINDS),
                          metadata={"label": "Event", "choice_labels": goals.KIND_LABELS, "example": goals.TAG_ADDED,
                                    "required_if": {"field": "mode", "value": "event"},
                                    "shown_if": {"field": "mode", "in": ["event"]}})
    event_tag = event_condition_fields["event_tag"]
    event_condition = event_condition_fields["event_condition"]
    # No load_default on these: a wait of another mode is stored as it was.
    timeout_amount = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000),
                                    metadata={"label": "Time out after", "example": 1,
                                              "required_if": {"field": "mode", "value": "event"},
                                              "shown_if": {"field": "mode", "in": ["event"]}})
    timeout_unit = fields.String(validate=validate.OneOf(list(UNITS)),
                                 metadata={"label": "Unit", "example": "days",
                                           "required_if": {"field": "mode", "value": "event"},
                                           "shown_if": {"field": "mode", "in": ["event"]}})
    event_next = fields.String(allow_none=True, metadata={"kind": "step"})
    timeout_next = fields.String(allow_none=True, metadata={"kind": "step"})

    @pre_load
    def _unused_event_parts(self, data, **_):
        if not isinstance(data, dict):
            return data
        return drop_unused(data, data.get("event") if data.get("mode") == goals.EVENT else None, prefix="event_")

    @validates_schema
    def _mode_fields(self, data, **_):
        if data["mode"] == "delay" and "amount" not in data:
            raise ValidationError("A delay needs an amount.", "amount")
        if data["mode"] == "until" and "until" not in data:
            raise ValidationError("Give the date and time to wait until.", "until")
        if data["mode"] == "window":
            _check_window(data)
        if data["mode"] == "event":
            if "event" not in data:
                raise ValidationError("Choose the event to wait for.", "event")
            for name in ("timeout_amount", "timeout_unit"):
                if name not in data:
                    raise ValidationError("Waiting for an event needs a timeout.", name)
            check_goal_shape(goals.wait_condition(data), "event", prefix="event_")

    @post_load
    def _until_as_text(self, data, **_):
        if isinstance(data.get("until"), datetime):
            data["until"] = data["until"].isoformat()
        return data


def _check_window(data: dict) -> None:
    for name, what in (("window_days", "the days"), ("window_start", "the start time"), ("window_end", "the end time")):
        if name not in data:
            raise ValidationError(f"A time window needs {what}.", name)
    if data["window_end"] <= data["window_start"]:  # HH:MM compares as text
        raise ValidationError("The window must end after it starts (on the same day).", "window_end")


def window_opens(cfg: dict, timezone: str, now: datetime) -> datetime | None:
    """None if `now` (naive UTC) is inside the step's window in the contact's zone, else the naive UTC time
    it next opens (DST-safe: engine.quiet_hours.next_send_time)."""
    window = {"days": cfg["window_days"], "start": cfg["window_start"], "end": cfg["window_end"]}
    return next_send_time(window, None, timezone, now)


def _wait_for_event(ctx) -> Result:
    """Wait for the event until the timeout; a field condition already true goes straight down the
    event exit. The job layer resumes the run with goals.EVENT when the event happens (engine.goals)."""
    cfg = ctx.config
    if cfg["event"] == goals.FIELD_CONDITION and goals.state_meets(goals.wait_condition(cfg), ctx.contact):
        return Result.go(cfg.get("event_next"), event_met=True)
    wake_at = ctx.now + timedelta(seconds=cfg["timeout_amount"] * UNITS[cfg["timeout_unit"]])
    return Result(Outcome.WAITING, next=None, wake_at=wake_at,
                  output={"waiting_for": cfg["event"], "until": wake_at.isoformat()})


def contact_zone(name: str) -> ZoneInfo:
    return time_zone(name) or ZoneInfo("UTC")


def wake_time(cfg: dict, timezone: str, now: datetime) -> datetime:
    """Naive UTC time to resume at."""
    if cfg["mode"] == "delay":
        return now + timedelta(seconds=cfg["amount"] * UNITS[cfg["unit"]])
    until = cfg["until"]
    until = datetime.fromisoformat(until) if isinstance(until, str) else until
    local = until.replace(tzinfo=contact_zone(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


@register
class Wait(Action):
    type = "wait"
    label = "Wait"
    category = "Internal Tools"
    description = "Pauses the contact for a time, or until a date and time in their time zone."
    schema = WaitConfig
    pauses = True
    # Mode "event" has two ways out, the others one (static/js/builder/model.js resolves "by_field").
    exit_layout = {"kind": "by_field", "field": "mode", "default": {"kind": "next"},
                   "cases": {"event": {"kind": "named", "exits": [{"field": "event_next", "label": "Event happened"},
                                                                  {"field": "timeout_next", "label": "Timed out"}]}}}

    def exit_fields(self, step):
        if step.config.get("mode") == goals.EVENT:
            return [("config.event_next", step.config.get("event_next")),
                    ("config.timeout_next", step.config.get("timeout_next"))]
        return [("next", step.next)]

    def resume(self, ctx, event):
        if ctx.config.get("mode") != goals.EVENT:
            return Result.go(ctx.step.next, resumed_by=event)
        if event == goals.EVENT:
            return Result.go(ctx.config.get("event_next"), resumed_by=event)
        return Result.go(ctx.config.get("timeout_next"), resumed_by=event, reason="the event did not happen in time")

    def pauses_at(self, step):
        # A wait "until" a date that has passed goes straight on, so only a delay
        # can be relied on to break a loop.
        return step.config.get("mode", "delay") in ("delay", goals.EVENT)

    def run(self, ctx):
        if ctx.config.get("mode") == goals.EVENT:
            return _wait_for_event(ctx)
        if ctx.config.get("mode") == "window":
            opens = window_opens(ctx.config, ctx.contact.timezone, ctx.now)
            if opens is None:
                return Result.go(ctx.step.next, inside_window=True)
            return Result(Outcome.WAITING, next=ctx.step.next, wake_at=opens, output={"until": opens.isoformat()})
        wake_at = wake_time(ctx.config, ctx.contact.timezone, ctx.now)
        if wake_at <= ctx.now:
            return Result.skip(ctx.step.next, "the time to wait until has passed", until=wake_at.isoformat())
        return Result(Outcome.WAITING, next=ctx.step.next, wake_at=wake_at, output={"until": wake_at.isoformat()})
