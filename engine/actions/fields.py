"""Schema fields shared by several action configs."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from engine import merge


class Template(fields.String):
    """A text with merge fields; rejected at save time if Jinja cannot parse it."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            merge.check(text)
        except merge.MergeFieldError as exc:
            raise ValidationError(f"Merge field error: {exc}") from exc
        return text


def message(required: bool = True, **kwargs) -> Template:
    length = validate.Length(min=1 if required else 0, max=1600)
    return Template(required=required, validate=length, **kwargs)


TAG = fields.String(required=True, validate=validate.Length(min=1, max=100))
