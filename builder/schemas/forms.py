"""Form descriptors for the builder, generated from the marshmallow schemas the server validates with.

Each schema field becomes a Field: {"name", "kind", "label", "required", "help"?, "default"?, "choices"?,
"min"?, "max"?, "item"? (kind "list"), "fields"? (kind "object"), "required_if"?}. The canvas builds its
forms and its defaults from these, so a form can never drift from what a save accepts.

A field's metadata may refine what the type alone says:
- "kind": e.g. "users" (a list of user ids), "condition_field", "step" (a step-id reference the canvas
  manages through its layout), "time_zone", "time" (a wall-clock "HH:MM");
- "label", "help", "choice_labels" ({value: label});
- "required_if": {"field", "value"}: required when a sibling field has that value (a rule the schema checks
  across fields, such as a delay's amount);
- "shown_if": {"field", "in": [values]}: the field applies (and is shown) only while a sibling has one of
  those values, such as a delay's amount for a wait "for a time";
- "example": a valid value to start a new step with where no default fits (a condition's operator).
- "suggest": "contact_fields": a text input that offers the contact's fields, standard and the account's
  custom fields (custom.<key>), as Update Contact Field's field does.
  "suggest": "custom_values": a text input that offers the account's custom values' keys (Update Custom
  Value's key).
"""

from __future__ import annotations

import copy
from typing import Any

from marshmallow import Schema, fields, missing, validate

from engine.actions.fields import Template

Field = dict[str, Any]

# Checked in order: Template is a String, NaiveDateTime a DateTime.
_KINDS: list[tuple[type[fields.Field], str]] = [
    (Template, "template"),
    (fields.Boolean, "boolean"),
    (fields.Integer, "integer"),
    (fields.DateTime, "datetime"),
    (fields.List, "list"),
    (fields.Nested, "object"),
    (fields.Dict, "object"),
    (fields.String, "text"),
]
_EXTRA_METADATA = ("help", "required_if", "shown_if", "example", "suggest")


def describe_schema(schema: type[Schema] | Schema) -> list[Field]:
    """One Field per declared field of `schema`, in declaration order."""
    instance = schema() if isinstance(schema, type) else schema
    return [describe_field(name, field) for name, field in instance.fields.items() if not field.dump_only]


def describe_field(name: str, field: fields.Field) -> Field:
    meta = field.metadata
    out: Field = {
        "name": name,
        "kind": meta.get("kind") or _kind_of(field),
        "label": meta.get("label") or _label(name),
        "required": bool(field.required),
    }
    for key in _EXTRA_METADATA:
        if key in meta:
            out[key] = meta[key]
    default = _default(field)
    if default is not missing:
        out["default"] = default
    out.update(_limits(field))
    choices = _choices(field)
    if choices is not None:
        out["choices"] = choices
        if "kind" not in meta:
            out["kind"] = "choice"
    if isinstance(field, fields.List):
        out["item"] = describe_field("item", field.inner)
    elif isinstance(field, fields.Nested):
        out["fields"] = describe_schema(field.schema)
    elif isinstance(field, fields.Dict):
        # A free-form mapping: no fixed fields, the keys and values each described.
        out["fields"] = []
        if field.key_field is not None:
            out["keys"] = describe_field("key", field.key_field)
        if field.value_field is not None:
            out["values"] = describe_field("value", field.value_field)
    return out


def _kind_of(field: fields.Field) -> str:
    for cls, kind in _KINDS:
        if isinstance(field, cls):
            return kind
    return "text"  # fields.Raw and anything else: typed in as text


def _label(name: str) -> str:
    words = name.removesuffix("_ids").removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _default(field: fields.Field) -> Any:
    default = field.load_default
    return default() if callable(default) else default


def _validators(field: fields.Field, cls: type) -> list[Any]:
    return [v for v in field.validators if isinstance(v, cls)]


def _limits(field: fields.Field) -> dict[str, Any]:
    """min/max from Range (numbers) and Length (characters, or items of a list)."""
    out: dict[str, Any] = {}
    for v in _validators(field, validate.Range) + _validators(field, validate.Length):
        low = v.min if not isinstance(v, validate.Length) or v.equal is None else v.equal
        high = v.max if not isinstance(v, validate.Length) or v.equal is None else v.equal
        if low is not None:
            out["min"] = max(out.get("min", low), low)
        if high is not None:
            out["max"] = min(out.get("max", high), high)
    return out


def _choices(field: fields.Field) -> list[dict[str, Any]] | None:
    one_of = _validators(field, validate.OneOf)
    if not one_of:
        return None
    labels = field.metadata.get("choice_labels") or {}
    return [{"value": value, "label": labels.get(value) or str(value).replace("_", " ")}
            for value in one_of[0].choices]


def sample_config(described: list[Field], *, step_id: str | None = None, user_id: int | None = None) -> dict:
    """The smallest config these Fields accept: defaults, plus a plain value for each field a save
    needs (required, or required by the value of a sibling). Used for new steps and in tests."""
    config: dict[str, Any] = {}
    for field in described:
        if "default" in field:  # a copy: the descriptions are cached, and a caller may change what it gets
            config[field["name"]] = copy.deepcopy(field["default"])
    for field in described:
        condition = field.get("required_if")
        needed = field["required"] or (condition and config.get(condition["field"]) == condition["value"])
        if needed and field["name"] not in config:
            config[field["name"]] = copy.deepcopy(field["example"]) if "example" in field else _sample_value(
                field, step_id=step_id, user_id=user_id)
    return config


def _sample_value(field: Field, *, step_id: str | None, user_id: int | None) -> Any:
    kind = field["kind"]
    low = field.get("min")
    if kind == "choice":
        return field["choices"][0]["value"]
    if kind == "integer":
        return low if low is not None else 1
    if kind == "boolean":
        return False
    if kind == "datetime":
        return "2030-01-01T09:00:00"
    if kind == "time_zone":
        return "UTC"
    if kind == "users":
        return [user_id]
    if kind == "workflow":  # any id passes the schema; whose workflow it is is checked at run time
        return 1
    if kind == "workflows":
        return [1]
    if kind == "condition_field":
        return "contact.first_name"
    if kind == "step":
        return step_id
    if kind == "list":
        item = field["item"]
        return [_sample_value(item, step_id=step_id, user_id=user_id) for _ in range(max(low or 0, 1))]
    if kind == "object":
        return sample_config(field.get("fields", []), step_id=step_id, user_id=user_id)
    return "x" * max(low or 1, 1)
