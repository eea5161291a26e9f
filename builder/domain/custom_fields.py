"""Custom fields: the contact fields an account defines (Settings > Custom fields), the values
contacts hold for them, and the merge fields a workflow may name.

A field's key is what contacts store their value under (contact.custom_fields) and what
workflows name (`custom.<key>`, `{{ contact.custom.<key> }}`), so it never changes once created.
Deleting a field that a published workflow reads is refused (409, naming the workflows); deleting
an unused one keeps the values contacts hold under its key.

Functions work in the caller's transaction and refuse bad input with builder.domain.errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields
from sqlalchemy import func, select

from builder.domain.errors import Conflict, Invalid
from builder.domain.phones import normalize_phone
from builder.extensions import db
from builder.models import CustomField, Workflow, WorkflowVersion
from engine import merge, registry
from engine.step_refs import template_fields

KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Names a contact already has: a custom key like these would be hidden behind the standard field.
RESERVED_KEYS = frozenset({*merge.STANDARD_FIELDS, "custom", "assigned_user_id", "dnd_sms", "dnd_call", "dnd_email"})
MAX_FIELDS = 100
MAX_CHOICES = 50
TEXT_MAX = 2000  # as update_contact_field stores at most
_EMAIL = fields.Email()


def account_fields(account_id: int) -> list[CustomField]:
    """The account's custom fields in the order they are shown."""
    return list(db.session.scalars(select(CustomField).where(CustomField.account_id == account_id)
                                   .order_by(CustomField.position, CustomField.id)))


def defined_keys(account_id: int) -> set[str]:
    return set(db.session.scalars(select(CustomField.key).where(CustomField.account_id == account_id)))


def find_field(account_id: int, key: str) -> CustomField | None:
    return db.session.scalar(select(CustomField).where(CustomField.account_id == account_id, CustomField.key == key))


def create_field(account_id: int, data: dict[str, Any]) -> CustomField:
    """A new field from validated data (key, label, type, choices?), shown last."""
    key = data["key"]
    if key in RESERVED_KEYS:
        raise Invalid.at({"key": [f"{key} is a standard contact field; choose another key."]})
    if find_field(account_id, key) is not None:
        raise Invalid.at({"key": [f"There is already a custom field with the key {key}."]})
    count, last = db.session.execute(select(func.count(), func.max(CustomField.position))
                                     .where(CustomField.account_id == account_id)).one()
    if count >= MAX_FIELDS:
        raise Invalid.at({"key": [f"An account can define at most {MAX_FIELDS} custom fields."]})
    choices = _checked_choices(data["type"], data.get("choices"))
    field = CustomField(account_id=account_id, key=key, label=data["label"], type=data["type"], choices=choices,
                        position=(last + 1) if last is not None else 0)
    db.session.add(field)
    db.session.flush()
    return field


def update_field(field: CustomField, data: dict[str, Any]) -> None:
    """Change the label, type, choices or position; the key stays. Values contacts already hold are
    kept as they are (they are checked against the new type when next written)."""
    kind = data.get("type", field.type)
    choices = data.get("choices", field.choices if kind == field.type else None)
    field.choices = _checked_choices(kind, choices)
    field.type = kind
    if "label" in data:
        field.label = data["label"]
    if "position" in data:
        field.position = data["position"]


def delete_field(field: CustomField) -> None:
    """Remove the definition; contacts keep their values. Refused while a published workflow uses it."""
    users = workflows_using(field.account_id, field.key)
    if users:
        raise Conflict(f"The custom field {field.key} is used by the published workflow(s) {', '.join(users)}; "
                       "change them first.", details={"workflows": users})
    db.session.delete(field)


def _checked_choices(kind: str, choices: list[str] | None) -> list[str] | None:
    if kind != "choice":
        if choices:
            raise Invalid.at({"choices": ["Only choice fields have choices."]})
        return None
    cleaned = list(dict.fromkeys(c.strip() for c in choices or [] if c.strip()))
    if not cleaned:
        raise Invalid.at({"choices": ["A choice field needs at least one choice."]})
    if len(cleaned) > MAX_CHOICES:
        raise Invalid.at({"choices": [f"At most {MAX_CHOICES} choices."]})
    return cleaned


# --- contacts' values ---------------------------------------------------------------------------

def validate_values(account_id: int, values: dict[str, Any], *, region: str = "US") -> dict[str, Any]:
    """Contact custom field values type-checked and normalised (numbers as numbers, dates as
    YYYY-MM-DD, phones in E.164, a choice spelt as defined); Invalid naming `custom_fields.<key>`.

    A null removes a value and always passes. Once an account defines custom fields, a key it has not
    defined is refused (a typo would otherwise store a field nothing reads); an account that defines
    none keeps free-form keys, as before custom fields existed.
    """
    defined = {f.key: f for f in account_fields(account_id)}
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = defined.get(key)
        if value is None or (field is None and not defined):
            out[key] = value
            continue
        if field is None:
            errors[f"custom_fields.{key}"] = [f"No custom field has the key {key}; define it in Settings > "
                                              "Custom fields first."]
            continue
        try:
            out[key] = _normalised(field, value, region)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    if errors:
        raise Invalid.at(errors)
    return out


def _normalised(field: CustomField, value: Any, region: str) -> Any:
    if isinstance(value, dict | list):
        raise ValueError("Give a single value.")
    text = value.strip() if isinstance(value, str) else value
    if field.type == "number":
        return _number(text)
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError("Give a text value.")
    text = str(text)
    if text == "" and field.type != "text":
        return None  # an emptied form input clears the value rather than failing its type
    if field.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("Give a date as YYYY-MM-DD.") from None
    if field.type == "choice":
        match = next((c for c in field.choices or [] if c.casefold() == text.casefold()), None)
        if match is None:
            raise ValueError(f"Choose one of {', '.join(field.choices or [])}.")
        return match
    if field.type == "phone":
        return normalize_phone(text, region)
    if field.type == "email":
        try:
            return _EMAIL.deserialize(text)
        except ValidationError:
            raise ValueError("Not a valid email address.") from None
    if len(text) > TEXT_MAX:
        raise ValueError(f"At most {TEXT_MAX} characters.")
    return text


def _number(value: Any) -> int | float | None:
    if value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("Give a number.")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError("Give a number.") from None
    if not math.isfinite(number):
        raise ValueError("Give a number.")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


# --- merge fields in workflows -------------------------------------------------------------------

def check_merge_fields(account_id: int, graph: dict[str, Any]) -> None:
    """Invalid naming step, field and unknown name when a template reads a merge field that is neither
    a standard contact field nor one of the account's custom fields ({{ contact.favourite_colour }}
    would otherwise send "Hello " to real contacts).

    contact.<key> reaches defined custom fields only. An account that defines no custom fields keeps
    free-form contact.custom.<key> (its contacts' keys are free-form too, see validate_values).
    """
    errors = unknown_merge_fields(graph, defined_keys(account_id) or None)
    if errors:
        raise Invalid.at(errors)


def unknown_merge_fields(graph: dict[str, Any], custom_keys: set[str] | None) -> dict[str, list[str]]:
    """Errors by "steps.<id>.config.<field>"; `custom_keys` None: any contact.custom.<key> passes."""
    errors: dict[str, list[str]] = {}
    for step_id, step in graph.get("steps", {}).items():
        action = registry.get(step.get("type", ""))
        if action is None:
            continue
        for path, template in template_fields(action.schema(), step.get("config") or {}):
            unknown = [_shown(name) for name in _names(template) if not _known(name, custom_keys)]
            if unknown:
                errors[f"steps.{step_id}.config.{path}"] = [
                    f"Unknown merge field {', '.join(unknown)}: use a standard contact field or a custom field "
                    "defined in Settings > Custom fields."]
    return errors


def _names(template: str) -> list[tuple[str, ...]]:
    try:
        return merge.names(template)
    except merge.MergeFieldError:
        return []  # the graph schema has already refused it, or will say why



def _known(name: tuple[str, ...], custom_keys: set[str] | None) -> bool:
    if name[0] == "custom_values":  # the account's custom values: builder.domain.custom_values checks them
        return True
    if name[0] == "steps":  # run variables: the graph schema checks them (engine.graph.reference_errors)
        return True
    if name[0] != "contact" or len(name) == 1:
        return name[0] == "contact"
    if name[1] in merge.STANDARD_FIELDS:
        return True
    if name[1] == "custom":
        return len(name) == 2 or custom_keys is None or name[2] in custom_keys
    return custom_keys is not None and name[1] in custom_keys


def _shown(name: tuple[str, ...]) -> str:
    return "".join(part if i == 0 else f".{part}" if part.isidentifier() else f"[{part!r}]"
                   for i, part in enumerate(name))


def workflows_using(account_id: int, key: str) -> list[str]:
    """Names of the account's published workflows whose live version reads the custom field `key`
    (a merge field, an if/else condition or an Update Contact Field step)."""
    rows = db.session.execute(
        select(Workflow.name, WorkflowVersion.graph).join(WorkflowVersion, WorkflowVersion.id ==
                                                          Workflow.published_version_id)
        .where(Workflow.account_id == account_id).order_by(Workflow.name))
    return [name for name, graph in rows if key in _custom_keys_read(graph)]


def _custom_keys_read(graph: dict[str, Any]) -> set[str]:
    keys: set[str] = set()
    for step in (graph or {}).get("steps", {}).values():
        action = registry.get(step.get("type", ""))
        config = step.get("config") or {}
        if action is not None:
            for _path, template in template_fields(action.schema(), config):
                for name in _names(template):
                    if len(name) > 2 and name[:2] == ("contact", "custom"):
                        keys.add(name[2])
                    elif len(name) > 1 and name[0] == "contact":
                        keys.add(name[1])
        keys.update(_field_refs(config))
    return keys


_FIELD_REF = re.compile(r"(?:contact\.)?custom\.([A-Za-z_][A-Za-z0-9_]*)")


def _field_refs(value: Any) -> Iterator[str]:
    """custom.<key> named by a field picker (update_contact_field's field, a condition's field)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _field_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _field_refs(item)
    elif isinstance(value, str):
        match = _FIELD_REF.fullmatch(value)
        if match:
            yield match.group(1)


def templates_of(step: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(config field path, text) of every template field of a graph's step (none for an unknown type)."""
    action = registry.get(step.get("type", ""))
    if action is not None:
        yield from template_fields(action.schema(), step.get("config") or {})
