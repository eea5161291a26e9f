"""Workflow export and import: a versioned JSON file that carries a workflow to another account.

The file is `{"format": "flowdesk.workflow", "version": 1, "name", "graph", "exported_at"}`. The graph
(steps, settings, trigger) travels as the graph schema stores it, except that user ids, which mean
nothing in another account, are written as the users' emails: every config field whose schema says
`kind: "users"` (Assign To User) and the value of an If / Else condition on `contact.assigned_user_id`.

Importing maps the emails back onto the importing account's users and reports in `remapped` what it
had to change or what the account does not have yet (users dropped, a step left unassigned, tags and
custom fields no contact has). A bad file is refused with Invalid, each error keyed by its path in the
file (`graph.steps.<id>.config.<field>`), as the graph schema names them.

`export_document` and `import_document` are pure (the property test runs them without a database);
`account_directory` reads what an account has.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from builder.domain.errors import Invalid
from builder.extensions import db
from builder.models import Contact, ContactTag, CustomField, User
from engine.graph import load_graph
from engine.registry import user_fields

FORMAT = "flowdesk.workflow"
FORMAT_VERSION = 1
NAME_MAX = 200
ASSIGNEE = "contact.assigned_user_id"
USER_OPERATORS = ("equals", "not_equals")  # the operators whose value names one user
# A list that follows a users list item by item (Assign To User's weights): dropping a user drops its weight.
PARALLEL = {"user_ids": "weights"}
_MERGE = "{{"


@dataclass(frozen=True)
class Directory:
    """What an import maps a workflow onto: the account's users by email (casefolded), the tags its
    contacts have (casefolded) and the custom field keys it defined, to say which ones would be new."""

    users: Mapping[str, int]
    tags: frozenset[str] = frozenset()
    custom_fields: frozenset[str] = frozenset()

    def user_id(self, email: Any) -> int | None:
        return self.users.get(email.strip().casefold()) if isinstance(email, str) else None


@dataclass
class Remap:
    """One thing an import changed or could not match, for the person importing to check."""

    step: str | None  # None: the trigger or the workflow
    field: str
    change: str  # user_dropped, step_unassigned, user_condition_unmatched, new_tag, new_custom_field
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "field": self.field, "change": self.change, "message": self.message}


@dataclass
class Imported:
    name: str
    graph: dict[str, Any]
    remapped: list[Remap] = field(default_factory=list)


# --- where user ids live ---------------------------------------------------------------------

def _steps(graph: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(step id, step, config) of every well-formed step; a malformed one is left for validation to name."""
    steps = graph.get("steps") if isinstance(graph, dict) else None
    for step_id, step in (steps.items() if isinstance(steps, dict) else ()):
        if isinstance(step, dict) and isinstance(step.get("config"), dict):
            yield str(step_id), step, step["config"]


def _assignee_conditions(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, condition) of each If / Else condition that compares the assignee with one user."""
    branches = config.get("branches")
    for b, branch in enumerate(branches if isinstance(branches, list) else ()):
        conditions = branch.get("conditions") if isinstance(branch, dict) else None
        for c, cond in enumerate(conditions if isinstance(conditions, list) else ()):
            if isinstance(cond, dict) and cond.get("field") == ASSIGNEE and cond.get("op") in USER_OPERATORS:
                yield f"config.branches.{b}.conditions.{c}.value", cond


# --- export ----------------------------------------------------------------------------------

def export_graph(graph: dict[str, Any], emails: Mapping[int, str]) -> dict[str, Any]:
    """A copy of the graph with every user id replaced by that user's email (null for a user who is gone)."""
    out = copy.deepcopy(graph)
    for _, step, config in _steps(out):
        for name in user_fields(step.get("type", "")):
            if isinstance(config.get(name), list):
                config[name] = [emails.get(uid) for uid in config[name]]
        for _, cond in _assignee_conditions(config):
            if isinstance(cond.get("value"), int) and not isinstance(cond["value"], bool):
                cond["value"] = emails.get(cond["value"])
    settings = out.get("settings")
    if isinstance(settings, dict) and isinstance(settings.get("notify_on_failure"), list):
        settings["notify_on_failure"] = [emails.get(uid) for uid in settings["notify_on_failure"]]
    return out


def export_document(name: str, graph: dict[str, Any], emails: Mapping[int, str],
                    exported_at: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "name": name, "graph": export_graph(graph, emails),
            "exported_at": exported_at.isoformat(timespec="seconds") + "Z"}


# --- import ----------------------------------------------------------------------------------

def _header(document: Any) -> tuple[str | None, dict[str, Any]]:
    """The name and raw graph of a well-formed file; Invalid naming the first thing wrong with it."""
    if not isinstance(document, dict):
        raise Invalid.at({"_schema": ["The file must be a JSON object exported from flowdesk."]})
    errors: dict[str, list[str]] = {}
    if document.get("format") != FORMAT:
        errors["format"] = [f"This is not a flowdesk workflow file (format must be {FORMAT!r})."]
    version = document.get("version")
    if version != FORMAT_VERSION:
        errors["version"] = [f"This file is version {version!r}; this flowdesk reads version {FORMAT_VERSION}."]
    name = document.get("name")
    if name is not None and not (isinstance(name, str) and 0 < len(name.strip()) <= NAME_MAX):
        errors["name"] = [f"The name must be 1 to {NAME_MAX} characters."]
    if not isinstance(document.get("graph"), dict):
        errors["graph"] = ["The file has no workflow graph (an object)."]
    if errors:
        raise Invalid.at(errors)
    return name, document["graph"]  # as written: a round trip keeps the name exactly


def _map_users(step_id: str, step: dict[str, Any], config: dict[str, Any], directory: Directory,
               report: list[Remap]) -> None:
    for name in user_fields(step.get("type", "")):
        emails = config.get(name)
        if not isinstance(emails, list):
            continue  # the schema names what is wrong with it
        kept, kept_at = [], []
        for i, email in enumerate(emails):
            uid = directory.user_id(email)
            if uid is None:
                report.append(Remap(step_id, f"config.{name}", "user_dropped", _why_dropped(email)))
            elif uid not in kept:
                kept.append(uid)
                kept_at.append(i)
        config[name] = kept
        parallel = PARALLEL.get(name)
        if parallel and isinstance(config.get(parallel), list) and len(config[parallel]) == len(emails):
            config[parallel] = [config[parallel][i] for i in kept_at]
        if emails and not kept:
            _leave_unassigned(step_id, step, name, report)
            return
    for path, cond in _assignee_conditions(config):
        uid = directory.user_id(cond.get("value"))
        if uid is None:
            report.append(Remap(step_id, path, "user_condition_unmatched",
                                f"{cond.get('value') or 'The user'} is not a user of this account; the condition "
                                "compares with nobody (choose a user in the step)."))
        else:
            cond["value"] = uid


def _why_dropped(email: Any) -> str:
    if isinstance(email, str):
        return f"{email} is not a user of this account; dropped from the step."
    if email is None:
        return "A user the workflow named no longer exists; dropped from the step."
    return f"{email!r} is not an email (a file names users by email, ids mean nothing here); dropped from the step."


def _leave_unassigned(step_id: str, step: dict[str, Any], name: str, report: list[Remap]) -> None:
    """A step with none of its users left does nothing: it becomes a Go To its next step (or an End), so the
    graph stays whole and contacts pass through unassigned."""
    following = step.get("next")
    suffix = " (no users: skipped)"
    label = f"{str(step.get('name') or step_id)[:NAME_MAX - len(suffix)]}{suffix}"
    if following:
        step.update(type="goto", config={"target": following}, next=None, name=label)
    else:
        step.update(type="end", config={}, next=None, name=label)
    report.append(Remap(step_id, f"config.{name}", "step_unassigned",
                        "None of the step's users is in this account: contacts pass it unassigned. "
                        "Replace it with an Assign To User step naming your users."))


def _mentions(graph: dict[str, Any]) -> Iterator[tuple[str | None, str, str, str]]:
    """(step, field path, "tag" or "custom_field", name) of each tag and custom field the graph names."""
    trigger = graph.get("trigger")
    config = trigger.get("config") if isinstance(trigger, dict) else None
    if isinstance(config, dict) and isinstance(config.get("tag"), str):
        yield None, "trigger.config.tag", "tag", config["tag"]
    for step_id, step, config in _steps(graph):
        if step.get("type") in ("add_tag", "remove_tag") and isinstance(config.get("tag"), str):
            yield step_id, "config.tag", "tag", config["tag"]
        if step.get("type") == "update_contact_field" and isinstance(config.get("field"), str) \
                and config["field"].startswith("custom."):
            yield step_id, "config.field", "custom_field", config["field"].removeprefix("custom.")
        branches = config.get("branches")
        for b, branch in enumerate(branches if isinstance(branches, list) else ()):
            conditions = branch.get("conditions") if isinstance(branch, dict) else None
            for c, cond in enumerate(conditions if isinstance(conditions, list) else ()):
                if not isinstance(cond, dict) or not isinstance(cond.get("field"), str):
                    continue
                path = f"config.branches.{b}.conditions.{c}"
                if cond["field"] == "contact.tags" and cond.get("op") in ("has_tag", "not_has_tag") \
                        and isinstance(cond.get("value"), str):
                    yield step_id, f"{path}.value", "tag", cond["value"]
                elif cond["field"].startswith("contact.custom."):
                    yield step_id, f"{path}.field", "custom_field", cond["field"].removeprefix("contact.custom.")


def _report_new_names(graph: dict[str, Any], directory: Directory, report: list[Remap]) -> None:
    for step_id, path, kind, name in _mentions(graph):
        if _MERGE in name or not name.strip():
            continue  # rendered per contact: nothing to compare
        if kind == "tag" and name.strip().casefold() not in directory.tags:
            report.append(Remap(step_id, path, "new_tag",
                                f"No contact has the tag “{name}” yet; the workflow will use it as a new tag."))
        elif kind == "custom_field" and name not in directory.custom_fields:
            report.append(Remap(step_id, path, "new_custom_field",
                                f"The custom field “{name}” is not defined in this account (Settings > Custom "
                                "fields); define it, or the values stay unlabelled."))


def _map_failure_users(graph: dict[str, Any], directory: Directory, report: list[Remap]) -> None:
    """The workflow's "when a run fails, notify" users, by email, onto this account's users."""
    settings = graph.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("notify_on_failure"), list):
        return
    kept: list[int] = []
    for email in settings["notify_on_failure"]:
        uid = directory.user_id(email)
        if uid is None:
            report.append(Remap(None, "settings.notify_on_failure", "user_dropped", _why_dropped(email)))
        elif uid not in kept:
            kept.append(uid)
    settings["notify_on_failure"] = kept


def import_document(document: Any, directory: Directory, *, name: str | None = None) -> Imported:
    """The workflow a file describes, mapped onto the directory's account and validated.

    `name` (if given) replaces the file's. Raises Invalid keyed by the path in the file.
    """
    file_name, raw = _header(document)
    graph = copy.deepcopy(raw)
    graph["name"] = name or file_name or graph.get("name")
    report: list[Remap] = []
    for step_id, step, config in _steps(graph):
        _map_users(step_id, step, config, directory, report)
    _map_failure_users(graph, directory, report)
    try:
        loaded = load_graph(graph)
    except ValidationError as exc:
        messages: dict[str, list[str]] = exc.messages  # type: ignore[assignment]
        raise Invalid.at({_in_file(path): msgs for path, msgs in messages.items()}) from None
    _report_new_names(loaded, directory, report)
    return Imported(loaded["name"], loaded, report)


def _in_file(path: str) -> str:
    return "graph" if path == "_schema" else f"graph.{path}"


# --- the account's side --------------------------------------------------------------------

def account_emails(account_id: int) -> dict[int, str]:
    rows = db.session.execute(select(User.id, User.email).where(User.account_id == account_id))
    return {uid: email for uid, email in rows}


def account_directory(account_id: int) -> Directory:
    """The account's users (active or not: a workflow may name either), its contacts' tags and its custom fields."""
    users = {email.casefold(): uid for uid, email in account_emails(account_id).items()}
    tags = db.session.scalars(select(ContactTag.tag).distinct().join(Contact, Contact.id == ContactTag.contact_id)
                              .where(Contact.account_id == account_id))
    keys = db.session.scalars(select(CustomField.key).where(CustomField.account_id == account_id))
    return Directory(users=users, tags=frozenset(t.casefold() for t in tags), custom_fields=frozenset(keys))


def safe_file_name(name: str) -> str:
    """The workflow's name as a download's file name: letters, digits and dashes."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60]
    return f"{slug or 'workflow'}.flowdesk.json"
