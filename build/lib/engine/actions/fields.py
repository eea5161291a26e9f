"""Schema fields and helpers shared by several action configs."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate

from engine import merge

TAG_MAX = 100
SMS_MAX = 1600  # what Twilio accepts in one message


class Template(fields.String):
    """A text with merge fields; rejected at save time if it is not a valid merge template."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            merge.check(text)
        except merge.MergeFieldError as exc:
            raise ValidationError(f"Merge field error: {exc}") from exc
        return text


def message(required: bool = True, **kwargs) -> Template:
    length = validate.Length(min=1 if required else 0, max=SMS_MAX)
    return Template(required=required, validate=length, **kwargs)


def tag() -> Template:
    return Template(required=True, validate=validate.Length(min=1, max=TAG_MAX))


def time_zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone of that name, or None if there is none."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        return None
