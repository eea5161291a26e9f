"""Wait for a delay, or until a date and time in the contact's own time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engine.actions.fields import time_zone
from engine.registry import Action, Outcome, Result, register

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


class WaitConfig(Schema):
    mode = fields.String(load_default="delay", validate=validate.OneOf(["delay", "until"]),
                         metadata={"label": "Wait", "choice_labels": {"delay": "For a time",
                                                                     "until": "Until a date and time"}})
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

    @validates_schema
    def _mode_fields(self, data, **_):
        if data["mode"] == "delay" and "amount" not in data:
            raise ValidationError("A delay needs an amount.", "amount")
        if data["mode"] == "until" and "until" not in data:
            raise ValidationError("Give the date and time to wait until.", "until")

    @post_load
    def _until_as_text(self, data, **_):
        if isinstance(data.get("until"), datetime):
            data["until"] = data["until"].isoformat()
        return data


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

    def pauses_at(self, step):
        # A wait "until" a date that has passed goes straight on, so only a delay
        # can be relied on to break a loop.
        return step.config.get("mode", "delay") == "delay"

    def run(self, ctx):
        wake_at = wake_time(ctx.config, ctx.contact.timezone, ctx.now)
        if wake_at <= ctx.now:
            return Result.skip(ctx.step.next, "the time to wait until has passed", until=wake_at.isoformat())
        return Result(Outcome.WAITING, next=ctx.step.next, wake_at=wake_at, output={"until": wake_at.isoformat()})
