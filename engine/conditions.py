"""Conditions for if/else branches, evaluated against a contact."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from engine.ports import ContactView

STANDARD_FIELDS = ("first_name", "last_name", "email", "phone", "timezone", "assigned_user_id", "tags",
                   "engagement_score")


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip().lower()


def as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        n = float(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int too big for a float
        return None
    return n if math.isfinite(n) else None  # "nan" and "inf" are names, not numbers


def _equals(actual: Any, expected: Any) -> bool:
    """Text comparison, ignoring case; numerically when either side is a JSON number (5 == "5.0")."""
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in (actual, expected)):
        a, b = as_number(actual), as_number(expected)
        if a is not None and b is not None:
            return a == b
    return _text(actual) == _text(expected)


def _compare(op: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        a, b = as_number(actual), as_number(expected)
        return a is not None and b is not None and op(a, b)

    return check


def _tags(actual: Any) -> set[str]:
    return {_text(t) for t in actual} if isinstance(actual, list | tuple | set) else set()


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not_equals": lambda a, b: not _equals(a, b),
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
NUMERIC = {"greater_than", "less_than"}
TAG_OPERATORS = {"has_tag", "not_has_tag", "is_empty", "is_not_empty"}  # the only ones that fit contact.tags


def field_value(contact: ContactView, path: str) -> Any:
    """`contact.first_name`, `contact.tags`, `contact.custom.<key>`."""
    name = path.removeprefix("contact.")
    if name.startswith("custom."):
        return (contact.custom_fields or {}).get(name.removeprefix("custom."))
    if name == "tags":
        return list(contact.tags)
    return getattr(contact, name, None) if name in STANDARD_FIELDS else None


def valid_field(path: str) -> bool:
    name = path.removeprefix("contact.")
    custom = name.startswith("custom.") and name != "custom."
    return path.startswith("contact.") and (name in STANDARD_FIELDS or custom)


def valid_operator(path: str, op: str) -> bool:
    """has_tag / not_has_tag work on contact.tags, which takes only those and the empty checks."""
    return (op in TAG_OPERATORS) if path == "contact.tags" else op not in ("has_tag", "not_has_tag")


def matches(contact: ContactView, condition: dict[str, Any]) -> bool:
    return OPERATORS[condition["op"]](field_value(contact, condition["field"]), condition.get("value"))
