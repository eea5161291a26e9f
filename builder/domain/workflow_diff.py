"""A readable difference between two workflow graphs (two versions).

Each change is {"kind": "added" | "removed" | "changed", "step_id": id or None, "summary": a sentence,
"details": [{"path", "before", "after"}]}. The sentence says what changed in words where a few words
can ("Assign To User: Sam added", "tag changed from “new” to “lead”"), and names the field where they
cannot (a branch's conditions). Steps come in their order in the newer graph (removed ones
in the older graph's order, after them); changes to the name, trigger, start and settings, with
step_id None, come first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import registry
from engine.graph import TRIGGER_TYPES

Change = dict[str, Any]
SHORT = 60  # a value longer than this is named, not quoted
STEP_LINKS = {"next", "else_next", "target"}  # fields holding a step id


def diff_graphs(before: dict[str, Any], after: dict[str, Any], user_names: Mapping[int, str] | None = None
                ) -> list[Change]:
    """`user_names` (id -> name) lets a changed user list read "Sam added" rather than an id."""
    words = _Words(user_names or {}, after.get("steps") or {})
    return [*_workflow_changes(before, after, words),
            *_step_changes(before.get("steps") or {}, after.get("steps") or {}, words)]


class _Words:
    """Says one changed field in a few words."""

    def __init__(self, user_names: Mapping[int, str], steps: dict[str, Any]):
        self.user_names = user_names
        self.steps = steps

    def phrases(self, details: list[dict[str, Any]]) -> str:
        said = list(dict.fromkeys(self.phrase(d) for d in details))
        return "; ".join(said)

    def phrase(self, detail: dict[str, Any]) -> str:
        path, before, after = detail["path"], detail["before"], detail["after"]
        name = _field_name(path)
        key = path.split(".")[-1]
        if key in STEP_LINKS and _is_scalar(before) and _is_scalar(after):
            if name == "target":
                name = "go to step"
            return f"{name} now {_step_title(after, self.steps.get(after))}" if after else f"{name} removed"
        if isinstance(before, list | None) and isinstance(after, list | None) and _scalars(before or [], after or []):
            return self._list_phrase(name, key, before or [], after or [])
        if isinstance(after, bool) and isinstance(before, bool | None):
            return f"{name} turned {'on' if after else 'off'}"
        top_level = "." not in path.removeprefix("trigger.").removeprefix("config.")  # not inside a branch, say
        if _short(before) and _short(after) and top_level:
            if before is None:
                return f"{name} set to {_quote(after)}"
            if after is None:
                return f"{name} cleared"
            return f"{name} changed from {_quote(before)} to {_quote(after)}"
        return f"{name} changed"

    def _list_phrase(self, name: str, key: str, before: list[Any], after: list[Any]) -> str:
        show = self._user if key == "user_ids" else _quote
        added = [show(v) for v in after if v not in before]
        removed = [show(v) for v in before if v not in after]
        parts = [f"{_and(added)} added" if added else "", f"{_and(removed)} removed" if removed else ""]
        said = ", ".join(p for p in parts if p)
        return said or f"{name} reordered"

    def _user(self, user_id: Any) -> str:
        return self.user_names.get(user_id) or f"user {user_id}"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _short(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and len(value) <= SHORT)


def _quote(value: Any) -> str:
    return f"“{value}”" if isinstance(value, str) else str(value)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


# --- the workflow as a whole --------------------------------------------------

def _workflow_changes(before: dict[str, Any], after: dict[str, Any], words: _Words) -> list[Change]:
    changes: list[Change] = []
    if before.get("name") != after.get("name"):
        changes.append(_change("changed", None, f"Renamed from “{before.get('name')}” to “{after.get('name')}”",
                               [_detail("name", before.get("name"), after.get("name"))]))
    old_trigger, new_trigger = before.get("trigger") or {}, after.get("trigger") or {}
    details = leaf_changes(old_trigger, new_trigger, "trigger")
    if details:
        if old_trigger.get("type") != new_trigger.get("type"):
            summary = f"Trigger changed from {_trigger(old_trigger)} to {_trigger(new_trigger)}"
        else:
            summary = f"Trigger ({_trigger(new_trigger)}): {words.phrases(details)}"
        changes.append(_change("changed", None, summary, details))
    if before.get("start") != after.get("start"):
        target = after.get("start")
        summary = (f"Now starts at {_step_title(target, (after.get('steps') or {}).get(target))}"
                   if target else "No longer has a first step")
        changes.append(_change("changed", None, summary, [_detail("start", before.get("start"), target)]))
    for detail in leaf_changes(before.get("settings") or {}, after.get("settings") or {}, "settings"):
        name = detail["path"].removeprefix("settings.").replace("_", " ")
        value = detail["after"]
        summary = f"Setting “{name}” turned {'on' if value else 'off'}" if isinstance(value, bool) else (
            f"Setting “{name}” changed")
        changes.append(_change("changed", None, summary, [detail]))
    return changes


def _trigger(trigger: dict[str, Any]) -> str:
    kind = trigger.get("type")
    return f"“{TRIGGER_TYPES.get(kind, kind or 'none')}”"


# --- steps --------------------------------------------------------------------

def _step_changes(before: dict[str, Any], after: dict[str, Any], words: _Words) -> list[Change]:
    changes: list[Change] = []
    for step_id, step in after.items():
        old = before.get(step_id)
        title = _step_title(step_id, step)
        if old is None:
            changes.append(_change("added", step_id, f"{title} added", leaf_changes(None, step, "")))
            continue
        details = leaf_changes(old, step, "")
        if not details:
            continue
        if old.get("type") != step.get("type"):
            summary = f"{title}: replaced {_action_label(old.get('type'))}"
        else:
            summary = f"{title}: {words.phrases(details)}"
        changes.append(_change("changed", step_id, summary, details))
    for step_id, step in before.items():
        if step_id not in after:
            changes.append(_change("removed", step_id, f"{_step_title(step_id, step)} removed",
                                   leaf_changes(step, None, "")))
    return changes


def _step_title(step_id: str | None, step: dict[str, Any] | None) -> str:
    step = step or {}
    return f"Step {step_id} ({step.get('name') or _action_label(step.get('type'))})"


def _action_label(action_type: str | None) -> str:
    action = registry.get(action_type or "")
    return action.label if action else (action_type or "unknown action")


def _field_name(path: str) -> str:
    parts = path.split(".")
    if parts[0] == "trigger":
        parts = parts[1:]
    if parts[0] == "config" and len(parts) > 1:
        parts = parts[1:]
    if parts[0] == "next":
        return "next step"
    if parts[0] == "else_next":
        return "else step"
    return parts[0].replace("_", " ")


# --- the leaves -----------------------------------------------------------------

def leaf_changes(before: Any, after: Any, path: str) -> list[dict[str, Any]]:
    """Every leaf value that differs, by dotted path (list items by index); a value missing on
    one side shows as None there, and a list item only one side has is one whole value."""
    if isinstance(before, dict) or isinstance(after, dict):
        if not (isinstance(before, dict | None) and isinstance(after, dict | None)):
            return [_detail(path, before, after)]
        old, new = before or {}, after or {}
        keys = list(dict.fromkeys([*new, *old]))
        return [d for key in keys for d in leaf_changes(old.get(key), new.get(key), _join(path, key))]
    if isinstance(before, list) and isinstance(after, list) and not _scalars(before, after):
        out = []
        for index in range(max(len(before), len(after))):
            item_path = _join(path, str(index))
            if index < len(before) and index < len(after):
                out.extend(leaf_changes(before[index], after[index], item_path))
            else:  # an item added or removed at the end reads best whole
                out.append(_detail(item_path, before[index] if index < len(before) else None,
                                   after[index] if index < len(after) else None))
        return out
    return [] if before == after and type(before) is type(after) else [_detail(path, before, after)]


def _scalars(*lists: list[Any]) -> bool:
    """Lists of plain values (user ids, keywords) read best as one before/after pair."""
    return all(not isinstance(v, dict | list) for items in lists for v in items)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _detail(path: str, before: Any, after: Any) -> dict[str, Any]:
    return {"path": path, "before": before, "after": after}


def _change(kind: str, step_id: str | None, summary: str, details: list[dict[str, Any]]) -> Change:
    return {"kind": kind, "step_id": step_id, "summary": summary, "details": details}
