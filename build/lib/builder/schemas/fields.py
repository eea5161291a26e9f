"""Field types every shape uses: storable text, bounded ids and numbers, strict booleans, paging."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from builder.models import MAX_ID


class Text(fields.String):
    """A string both databases can store (no NUL, no lone surrogates), trimmed unless strip=False."""

    default_error_messages = {"unstorable": "Must not contain NUL characters or invalid Unicode."}

    def __init__(self, *, strip: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.strip = strip

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("unstorable") from None
        if "\x00" in text:
            raise self.make_error("unstorable")
        for validator in self.validators:
            if isinstance(validator, validate.Length):
                validator(text)  # the documented maxLength is on what was sent, before trimming
        return text.strip() if self.strip else text


class Id(fields.Integer):
    """A row id. Strict (no "7" for 7) in JSON bodies; query strings pass strict=False."""

    def __init__(self, *, strict: bool = True, **kwargs: Any):
        super().__init__(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Number(fields.Integer):
    """A count or version number: at least `min` (default 1) and at most MAX_ID, like an id."""

    def __init__(self, *, min: int = 1, strict: bool = True, **kwargs: Any):
        super().__init__(strict=strict, validate=validate.Range(min=min, max=MAX_ID), **kwargs)


class Flag(fields.Boolean):
    """true or false in a JSON body, nothing else (marshmallow's Boolean also takes 0.0, "yes", "on", ...).
    Query strings keep fields.Boolean: there "true" and "false" are the only way to say it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def at_most_keys(limit: int):
    """A size limit for a Dict field (validate.Length would be documented as maxLength, a string keyword)."""

    def check(value: dict) -> None:
        if len(value) > limit:
            raise ValidationError(f"At most {limit} entries.")

    return check


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageSchema(Schema):
    total = fields.Integer(metadata={"description": "rows matching the filters, on all pages"})
    page = fields.Integer()
    per_page = fields.Integer()


def not_blank(text: str) -> None:
    """A message must say something: whitespace alone is refused (the text itself is kept as typed)."""
    if not text.strip():
        raise ValidationError("The message is empty.")
