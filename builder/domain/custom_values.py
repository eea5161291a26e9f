"""Custom values: account-level values (Settings > Custom values) that every template reads as
{{ custom_values.<key> }}, such as the office address or this month's offer, changed in one place.

Admins create, change and delete them; a workflow's Update Custom Value step changes a value too
(builder.domain.store). A key follows the custom fields' rules and never changes once created, since
workflows name it. Saving or publishing a workflow that reads an unknown key is refused (422 naming the
step, the field and the key); deleting a value a published workflow reads or sets is refused (409
naming the workflows).

Functions work in the caller's transaction and refuse bad input with builder.domain.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from builder.domain import audit
from builder.domain.custom_fields import KEY, templates_of
from builder.domain.errors import Conflict, Invalid
from builder.extensions import db
from builder.models import CustomValue, User, Workflow, WorkflowVersion, utcnow
from engine import merge

NAMESPACE = "custom_values"
STEP_TYPE = "update_custom_value"
MAX_VALUES = 200
VALUE_MAX = 2000
# Audit log actions (Settings > Audit log shows them in words).
CREATED = "settings.custom_value_created"
UPDATED = "settings.custom_value_updated"
DELETED = "settings.custom_value_deleted"
KEY_RULE = "A key is 1 to 64 lower-case letters, digits and underscores, starting with a letter."


def account_values(account_id: int) -> list[CustomValue]:
    """The account's custom values, by key."""
    return list(db.session.scalars(select(CustomValue).where(CustomValue.account_id == account_id)
                                   .order_by(CustomValue.key)))


def values_by_key(account_id: int) -> dict[str, str]:
    rows = db.session.execute(select(CustomValue.key, CustomValue.value).where(CustomValue.account_id == account_id))
    return {key: value for key, value in rows}


def defined_keys(account_id: int) -> set[str]:
    return set(db.session.scalars(select(CustomValue.key).where(CustomValue.account_id == account_id)))


def find_value(account_id: int, key: str) -> CustomValue | None:
    return db.session.scalar(select(CustomValue).where(CustomValue.account_id == account_id, CustomValue.key == key))


def create_value(actor: User, data: dict[str, Any]) -> CustomValue:
    """A new custom value from validated data (key, value)."""
    key, account_id = data["key"], actor.account_id
    if not KEY.fullmatch(key):
        raise Invalid.at({"key": [KEY_RULE]})
    if find_value(account_id, key) is not None:
        raise Invalid.at({"key": [f"There is already a custom value with the key {key}."]})
    count = db.session.scalar(select(func.count()).select_from(CustomValue).where(CustomValue.account_id == account_id))
    if count >= MAX_VALUES:
        raise Invalid.at({"key": [f"An account can define at most {MAX_VALUES} custom values."]})
    row = CustomValue(account_id=account_id, key=key, value=_checked(data.get("value", "")),
                      updated_by_id=actor.id, updated_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.settings_event(actor, CREATED, target_label=key)
    return row


def update_value(actor: User, row: CustomValue, value: str) -> None:
    """Change the value; the key stays."""
    previous, row.value = row.value, _checked(value)
    if row.value != previous:
        row.updated_by_id, row.updated_at = actor.id, utcnow()
        audit.settings_event(actor, UPDATED, target_label=row.key)


def delete_value(actor: User, row: CustomValue) -> None:
    """Remove a value. Refused while a published workflow reads or sets it."""
    users = workflows_using(row.account_id, row.key)
    if users:
        raise Conflict(f"The custom value {row.key} is used by the published workflow(s) {', '.join(users)}; "
                       "change them first.", details={"workflows": users})
    db.session.delete(row)
    audit.settings_event(actor, DELETED, target_label=row.key)


def _checked(value: str) -> str:
    if len(value) > VALUE_MAX:
        raise Invalid.at({"value": [f"At most {VALUE_MAX} characters."]})
    return value


# --- workflows that read or set them ----------------------------------------------------------------

def check_merge_fields(account_id: int, graph: dict[str, Any]) -> None:
    """Invalid naming step, field and key when a template reads, or an Update Custom Value step sets, a
    custom value the account does not have ({{ custom_values.ofice_address }} would render empty)."""
    errors = unknown_references(graph, defined_keys(account_id))
    if errors:
        raise Invalid.at(errors)


def unknown_references(graph: dict[str, Any], keys: set[str]) -> dict[str, list[str]]:
    """Errors by "steps.<id>.config.<field>"."""
    errors: dict[str, list[str]] = {}
    for step_id, path, key in references(graph):
        if key is None:
            errors.setdefault(f"steps.{step_id}.config.{path}", []).append(
                "Name a custom value, as in {{ custom_values.<key> }}.")
        elif key not in keys:
            shown = key if path == "key" and _is_step_key(graph, step_id) else f"{NAMESPACE}.{key}"
            errors.setdefault(f"steps.{step_id}.config.{path}", []).append(
                f"Unknown custom value {shown}: define it in Settings > Custom values first.")
    return errors


def _is_step_key(graph: dict[str, Any], step_id: str) -> bool:
    return (graph.get("steps", {}).get(step_id) or {}).get("type") == STEP_TYPE


def references(graph: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(step id, config field path, key or None for the bare namespace) for every custom value a graph's
    templates read and every key its Update Custom Value steps set."""
    for step_id, step in (graph or {}).get("steps", {}).items():
        config = step.get("config") or {}
        if step.get("type") == STEP_TYPE and isinstance(config.get("key"), str):
            yield step_id, "key", config["key"]
        for path, template in templates_of(step):
            for name in _names(template):
                if name[0] == NAMESPACE:
                    yield step_id, path, name[1] if len(name) > 1 else None


def _names(template: str) -> list[tuple[str, ...]]:
    if NAMESPACE not in template:
        return []
    try:
        return merge.names(template)
    except merge.MergeFieldError:
        return []  # the graph schema has already refused it, or will say why


def workflows_using(account_id: int, key: str) -> list[str]:
    """Names of the account's published workflows whose live version reads or sets the custom value `key`."""
    rows = db.session.execute(
        select(Workflow.name, WorkflowVersion.graph).join(WorkflowVersion, WorkflowVersion.id ==
                                                          Workflow.published_version_id)
        .where(Workflow.account_id == account_id).order_by(Workflow.name))
    return [name for name, graph in rows if any(found == key for _s, _p, found in references(graph))]
