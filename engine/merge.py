"""Merge fields ({{ contact.first_name }}) rendered in Jinja's sandbox.

Templates are written by marketers, so they run in SandboxedEnvironment: no
attribute access to internals, no imports, and undefined names render empty.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from engine.ports import ContactView

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class MergeFieldError(ValueError):
    pass


@lru_cache(maxsize=1024)
def _compile(template: str):
    try:
        return _env.from_string(template)
    except TemplateSyntaxError as exc:
        raise MergeFieldError(f"line {exc.lineno}: {exc.message}") from exc


def check(template: str) -> None:
    """Raise MergeFieldError if the template does not parse."""
    _compile(template)


def contact_context(contact: ContactView) -> dict[str, Any]:
    custom = dict(contact.custom_fields or {})
    return {
        "contact": {
            "id": contact.id,
            "first_name": contact.first_name or "",
            "last_name": contact.last_name or "",
            "name": f"{contact.first_name or ''} {contact.last_name or ''}".strip(),
            "email": contact.email or "",
            "phone": contact.phone or "",
            "timezone": contact.timezone,
            "tags": list(contact.tags),
            "custom": custom,
            **{k: v for k, v in custom.items() if k.isidentifier() and k not in _RESERVED},
        }
    }


_RESERVED = {"id", "first_name", "last_name", "name", "email", "phone", "timezone", "tags", "custom"}


def render(template: str, contact: ContactView) -> str:
    if "{" not in template:
        return template
    return _compile(template).render(contact_context(contact))
