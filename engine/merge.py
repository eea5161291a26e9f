"""Merge fields ({{ contact.first_name }}) rendered in Jinja's sandbox.

Templates are written by marketers, so they are held to a small subset of Jinja,
checked when a workflow is saved: `contact.<field>` lookups, a list of harmless
filters, tests, comparisons, `~` and `{% if %}`. No calls, loops, arithmetic or
names that start with "_": nothing that reaches Python internals or can build
a huge value. They render in a SandboxedEnvironment that only looks up items of
the plain data given to it; unknown fields render empty.

A template that breaks the rules at run time (a version stored before a rule
existed) raises MergeFieldError, which fails that step with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import do_default
from jinja2.sandbox import SandboxedEnvironment

from engine.ports import ContactView

ALLOWED_NAMES = frozenset({"contact", "steps"})  # steps: run variables (engine.step_refs)
# custom_values: the account's values (Settings > Custom values), {key: text}, given by the caller.
ALLOWED_NAMES = ALLOWED_NAMES | {"custom_values"}
ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last", "length", "list",
    "lower", "max", "min", "reverse", "round", "sort", "string", "striptags", "title", "trim", "truncate",
    "unique", "upper", "urlencode", "wordcount",
})
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.Filter, nodes.Test, nodes.Keyword, nodes.If, nodes.CondExpr, nodes.Compare,
    nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Concat, nodes.List, nodes.Tuple,
)
_WHAT = {nodes.Call: "calling a function or method", nodes.For: "a {% for %} loop", nodes.BinExpr: "arithmetic",
         nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}", nodes.Macro: "a macro",
         nodes.Include: "{% include %}", nodes.Import: "{% import %}", nodes.FromImport: "{% import %}",
         nodes.Extends: "{% extends %}"}


class MergeFieldError(ValueError):
    pass


def _private(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("_")


class MergeEnvironment(SandboxedEnvironment):
    """Lookups reach only items of the dicts and lists in the context, never
    attributes (no methods, and a custom field called "items" is the field)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.getitem(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if _private(argument):
            raise SecurityError(f"{argument!r} is not allowed in merge fields")
        if isinstance(obj, str) and not isinstance(argument, int | slice):
            return self.undefined(obj=obj, name=argument)
        try:
            return obj[argument]
        except (TypeError, LookupError):
            return self.undefined(obj=obj, name=argument)


def _default(value: Any, default_value: Any = "", boolean: bool = True) -> Any:
    """Jinja's default, but an empty value counts as missing too unless `boolean` is false:
    {{ contact.first_name | default("there") }} greets a contact whose first name is blank."""
    return do_default(value, default_value, boolean)


_env = MergeEnvironment(autoescape=False, keep_trailing_newline=True, undefined=ChainableUndefined)
_env.filters = {name: f for name, f in _env.filters.items() if name in ALLOWED_FILTERS}
_env.filters["default"] = _env.filters["d"] = _default


def _problems(tree: nodes.Template) -> Iterator[str]:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            kind = f"the {type(node).__name__} construct"
            what = next((w for cls, w in _WHAT.items() if isinstance(node, cls)), kind)
            yield f"{what} is not allowed in merge fields"
        elif isinstance(node, nodes.Name) and node.name not in ALLOWED_NAMES:
            yield f"unknown merge field {node.name!r}; merge fields look like {{{{ contact.first_name }}}}"
        elif isinstance(node, nodes.Getattr) and _private(node.attr):
            yield f"{node.attr!r} is not allowed in merge fields"
        elif isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const | nodes.Slice):
            yield "only fixed keys may be looked up, as in contact.custom.plan or contact.tags[0]"
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and _private(node.arg.value):
            yield f"{node.arg.value!r} is not allowed in merge fields"
        elif isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            yield f"the {node.name!r} filter is not available in merge fields"
        elif isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
            yield "*args and **kwargs are not allowed in merge fields"


@lru_cache(maxsize=1024)
def _compile(template: str):
    try:
        tree = _env.parse(template)  # parse only: nothing is evaluated before the checks
    except TemplateError as exc:
        raise MergeFieldError(_describe(exc)) from exc
    problem = next(_problems(tree), None)
    if problem:
        raise MergeFieldError(problem)
    try:
        return _env.from_string(tree)
    except TemplateError as exc:
        raise MergeFieldError(_describe(exc)) from exc


def _describe(exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)
    return f"line {line}: {exc.message}" if line else str(exc.message or exc)


def check(template: str) -> None:
    """Raise MergeFieldError if the template does not parse or breaks the rules above."""
    _compile(template)


def names(template: str) -> list[tuple[str, ...]]:
    """The merge fields a valid template reads, each as its path of keys, in order and without
    repeats: "Hi {{ contact.custom.plan | upper }}" reads [("contact", "custom", "plan")]. Slices and
    what a lookup reads beyond a list index stop the path (contact.tags[0] is ("contact", "tags"))."""
    if "{" not in template:
        return []
    check(template)
    found: dict[tuple[str, ...], None] = {}
    _collect(_env.parse(template), found)
    return list(found)


def _collect(node: nodes.Node, found: dict[tuple[str, ...], None]) -> None:
    path = _path(node)
    if path is not None:
        found[path] = None
        return
    for child in node.iter_child_nodes():
        _collect(child, found)


def _path(node: nodes.Node) -> tuple[str, ...] | None:
    """contact.a["b"] as ("contact", "a", "b"); None if the node is not a lookup chain on a name."""
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        inner = _path(node.node)
        return None if inner is None else (*inner, node.attr)
    if isinstance(node, nodes.Getitem):
        inner = _path(node.node)
        if inner is None or not isinstance(node.arg, nodes.Const):
            return inner
        return (*inner, node.arg.value) if isinstance(node.arg.value, str) and inner[-1] != "tags" else inner
    return None


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
            "engagement_score": contact.engagement_score or 0,
            "custom": custom,
            **{k: v for k, v in custom.items() if k.isidentifier() and k not in _RESERVED},
        }
    }


# The standard fields of contact_context; custom keys are reached under contact.custom or, when
# they are names and not one of these, as contact.<key> too.
STANDARD_FIELDS = ("id", "first_name", "last_name", "name", "email", "phone", "timezone", "tags", "engagement_score")
_RESERVED = {*STANDARD_FIELDS, "custom"}


def render(template: str, contact: ContactView, steps: dict[str, Any] | None = None,
           custom_values: dict[str, str] | None = None) -> str:
    if "{" not in template:
        return template
    try:
        return _compile(template).render(contact_context(contact), steps=steps or {},
                                         custom_values=custom_values or {})
    except TemplateError as exc:
        raise MergeFieldError(_describe(exc)) from exc


# HTML email bodies: the same rules, but every merged value is HTML-escaped (a contact named
# "<b>Ann</b>" is shown as typed, never as markup).
_html_env = MergeEnvironment(autoescape=True, keep_trailing_newline=True, undefined=ChainableUndefined)
_html_env.filters = _env.filters


@lru_cache(maxsize=256)
def _compile_html(template: str):
    _compile(template)  # the checks, once
    return _html_env.from_string(template)


def render_html(template: str, contact: ContactView, steps: dict[str, Any] | None = None,
                custom_values: dict[str, str] | None = None) -> str:
    if "{" not in template:
        return template
    try:
        return _compile_html(template).render(contact_context(contact), steps=steps or {},
                                              custom_values=custom_values or {})
    except TemplateError as exc:
        raise MergeFieldError(_describe(exc)) from exc
