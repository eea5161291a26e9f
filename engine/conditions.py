"""Conditions for if/else branches, evaluated against a contact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.ports import ContactView

STANDARD_FIELDS = ("first_name", "last_name", "email", "phone", "timezone", "assigned_user_id", "tags")


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip().lower()


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _compare(op: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        a, b = _number(actual), _number(expected)
        return a is not None and b is not None and op(a, b)

    return check


def _tags(actual: Any) -> set[str]:
    return {_text(t) for t in actual} if isinstance(actual, list | tuple | set) else set()


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, b: _text(a) == _text(b),
    "not_equals": lambda a, b: _text(a) != _text(b),
    "contains": lambda a, b: _text(b) in _text(a),
    "not_contains": lambda a, b: _text(b) not in _text(a),
    "starts_with": lambda a, b: _text(a).startswith(_text(b)),
    "is_empty": lambda a, _b: not _text(a) if not isinstance(a, list) else not a,
    "is_not_empty": lambda a, _b: bool(_text(a)) if not isinstance(a, list) else bool(a),
    "greater_than": _compare(lambda a, b: a > b),
    "less_than": _compare(lambda a, b: a < b),
    "has_tag": lambda a, b: _text(b) in _tags(a),
    "not_has_tag": lambda a, b: _text(b) not in _tags(a),
}
NEEDS_VALUE = {op for op in OPERATORS if op not in ("is_empty", "is_not_empty")}


def field_value(contact: ContactView, path: str) -> Any:
    """`contact.first_name`, `contact.tags`, `contact.custom.<key>`."""
    name = path.removeprefix("contact.")
    if name.startswith("custom."):
        return (contact.custom_fields or {}).get(name.removeprefix("custom."))
    if name == "tags":
        return list(contact.tags)
    return getattr(contact, name, None)


def valid_field(path: str) -> bool:
    name = path.removeprefix("contact.")
    return path.startswith("contact.") and (name in STANDARD_FIELDS or name.startswith("custom."))


def matches(contact: ContactView, condition: dict[str, Any]) -> bool:
    return OPERATORS[condition["op"]](field_value(contact, condition["field"]), condition.get("value"))
