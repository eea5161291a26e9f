"""Text Formatter: change a text (case, trimming, replacing, a part of it, the first email / phone / number /
URL in it, a cut, a default when empty) or write a date in the contact's time zone. The text is a template
(a contact field, a run variable or a constant), read when the step runs; the result is the step's output
(`value`) and, if chosen, a contact field.

A date that cannot be read, or a contact time zone that is not a known zone, fails the step saying so.
Nothing to extract, or no such part, gives an empty result (the output says `found: false`).
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import dates, formatting
from engine.actions.fields import Template
from engine.actions.result_field import failed, finish, save_to_field
from engine.arithmetic import shown
from engine.registry import Action, register

OPERATIONS = {
    "upper": "UPPER CASE", "lower": "lower case", "title": "Title Case", "trim": "Trim spaces",
    "replace": "Replace text", "split": "Split and take a part", "extract_email": "Extract the first email",
    "extract_phone": "Extract the first phone number", "extract_number": "Extract the first number",
    "extract_url": "Extract the first URL", "truncate": "Truncate", "default": "Default when empty",
    "format_date": "Format a date",
}
PART_LIMIT = 100


def _shown_for(*operations: str) -> dict:
    return {"field": "operation", "in": list(operations)}


class TextFormatterConfig(Schema):
    operation = fields.String(load_default="trim", validate=validate.OneOf(list(OPERATIONS)),
                              metadata={"label": "Operation", "choice_labels": OPERATIONS})
    text = Template(required=True, validate=validate.Length(min=1, max=formatting.TEXT_LIMIT),
                    metadata={"label": "Text", "help": "A merge field such as {{ contact.first_name }} "
                                                       "or {{ steps.hook.body.note }}, or a constant."})
    find = Template(validate=validate.Length(max=1000),
                    metadata={"label": "Find", "help": "Every occurrence is replaced (upper and lower case differ).",
                              "required_if": {"field": "operation", "value": "replace"},
                              "shown_if": _shown_for("replace")})
    replace_with = Template(load_default="", validate=validate.Length(max=1000),
                            metadata={"label": "Replace with", "shown_if": _shown_for("replace")})
    separator = fields.String(validate=validate.Length(max=100),
                              metadata={"label": "Separator", "help": "Such as , or a space.",
                                        "required_if": {"field": "operation", "value": "split"},
                                        "shown_if": _shown_for("split")})
    part = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=-PART_LIMIT, max=PART_LIMIT),
                          metadata={"label": "Part", "help": "1 for the first part, 2 the second; -1 for the last.",
                                    "shown_if": _shown_for("split")})
    length = fields.Integer(strict=True, load_default=100, validate=validate.Range(min=1, max=formatting.TEXT_LIMIT),
                            metadata={"label": "Keep characters", "shown_if": _shown_for("truncate")})
    fallback = Template(validate=validate.Length(max=1000),
                        metadata={"label": "Default value", "help": "Used when the text is empty.",
                                  "required_if": {"field": "operation", "value": "default"},
                                  "shown_if": _shown_for("default")})
    date_format = fields.String(load_default="long", validate=validate.OneOf(list(dates.FORMATS)),
                                metadata={"label": "Date format", "choice_labels": dates.FORMATS,
                                          "help": "In the contact's time zone. A time without an offset is read "
                                                  "as UTC.",
                                          "shown_if": _shown_for("format_date")})
    save_to = save_to_field()

    @validates_schema
    def _operation_fields(self, data, **_):
        operation = data["operation"]
        if operation == "replace" and not data.get("find"):
            raise ValidationError("Give the text to find.", "find")
        if operation == "split" and not data.get("separator"):
            raise ValidationError("Give the separator to split at.", "separator")
        if operation == "split" and data["part"] == 0:
            raise ValidationError("Parts count from 1 (or from -1 for the last).", "part")
        if operation == "default" and not (data.get("fallback") or "").strip():
            raise ValidationError("Give the value to use when the text is empty.", "fallback")


@register
class TextFormatter(Action):
    type = "text_formatter"
    label = "Text Formatter"
    category = "Internal Tools"
    description = ("Formats text: case, trim, replace, split, extract an email, phone, number or URL, truncate, "
                   "a default, or a date in the contact's time zone; the result goes to a field or a variable.")
    schema = TextFormatterConfig
    outputs = {"value": "Result"}

    def run(self, ctx):
        operation = ctx.config["operation"]
        try:
            text = ctx.render(ctx.config["text"])
            result = self._format(ctx, operation, text)
        except ValueError as exc:  # a bad date or time zone is the step's failure, told in the log
            return failed(str(exc), operation=operation)
        missing = {}
        if result is None:  # nothing to extract, or no such part
            result, missing = "", {"found": False}
        if len(result) > formatting.TEXT_LIMIT:
            return failed(f"the result is longer than {formatting.TEXT_LIMIT} characters", operation=operation)
        return finish(ctx, result, result, operation=operation, **missing)

    def _format(self, ctx, operation: str, text: str) -> str | None:
        cfg = ctx.config
        match operation:
            case "upper":
                return text.upper()
            case "lower":
                return text.lower()
            case "title":
                return formatting.title_case(text)
            case "trim":
                return formatting.trim(text)
            case "replace":
                find = ctx.render(cfg["find"])
                if not find:  # "".replace would put the replacement between every two characters
                    raise ValueError(f"the text to find is empty (from {shown(cfg['find'])})")
                return text.replace(find, ctx.render(cfg.get("replace_with") or ""))
            case "split":
                return formatting.split_part(text, cfg["separator"], cfg.get("part", 1))
            case "truncate":
                return formatting.truncate(text, cfg.get("length", 100))
            case "default":
                return formatting.default_when_empty(text, ctx.render(cfg["fallback"]))
            case "format_date":
                if not text.strip():
                    raise ValueError(f"the date is empty (from {shown(cfg['text'])})")
                zone = dates.contact_zone(ctx.contact.timezone)
                return dates.format_date(dates.parse_date(text, ctx.now, zone), cfg.get("date_format", "long"), zone)
        if operation in formatting.EXTRACTORS:
            return formatting.EXTRACTORS[operation](text)
        raise ValueError(f"unknown operation {operation!r}")
