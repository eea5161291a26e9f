"""Inbound webhook trigger: POST JSON to a workflow's secret URL to enroll a contact.

The URL is /hooks/workflows/<id>/<secret>; the secret is the workflow's own, rotated alone
(builder.domain.workflow_hooks, which also keeps the pre-upgrade HMAC URL working until the first
rotation). While a sample capture is armed, the next JSON object is kept for the builder first,
even for a draft workflow (then it is only captured: 202 {"captured": true, "enrolled": false}).
The workflow's trigger config maps fields of the posted JSON (dotted paths reach
into nested objects) to contact fields: first_name, last_name, email, phone,
timezone or custom.<name>. The contact is found by phone, then email, in the
workflow's account, or created (which also fires "contact created" triggers).

Mapped values pass the same field validation as the contacts API (builder.api.contacts):
a value the API would refuse is a 422 naming the posted JSON field, and nothing is saved.
The body is capped at MAX_BODY bytes as read, whatever Content-Length says (or does not:
a chunked body has none).
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.exceptions import RequestEntityTooLarge

from builder.domain import contacts, enrollment, workflow_hooks
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.http.input_limits import JsonTooDeep, loads_body
from builder.models import MAX_ID, Contact
from builder.schemas.contacts import ContactFields, Scalar
from engine.triggers import INBOUND_WEBHOOK, Event
from jobqueue.effects import carry_out_committed

bp = Blueprint("workflow_hooks", __name__, url_prefix="/hooks/workflows")

MAX_BODY = 64 * 1024
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "timezone")
CUSTOM_NAME_MAX = 100


def hook_secret(workflow_id: int) -> str:
    """The workflow's current secret ("" for no such workflow)."""
    return workflow_hooks.current_secret(db.session, workflow_id) or ""


def _error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None):
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status


def _lookup(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def mapped_values(payload: dict[str, Any], field_map: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Contact field -> value from the payload, and errors keyed by the payload's field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for source, target in field_map.items():
        value = _lookup(payload, source)
        if value is None or value == "":
            continue
        try:
            clean = _validated(target, value)
        except ValidationError as exc:
            messages = exc.messages
            errors[source] = list(messages.get(target, messages) if isinstance(messages, dict) else messages)
            continue
        if clean is not None and clean != "":  # only blanks: as if the field were not sent
            values[target] = clean
    return values, errors


def _validated(target: str, value: Any) -> Any:
    """The value as the contacts API would store it in `target`, or ValidationError."""
    if target.startswith("custom."):
        name = target.removeprefix("custom.")
        if not name or len(name) > CUSTOM_NAME_MAX:
            raise ValidationError(f"A custom field name is 1 to {CUSTOM_NAME_MAX} characters.")
        return Scalar().deserialize(value)
    if target not in CONTACT_FIELDS:
        raise ValidationError(f"{target!r} is not a contact field.")
    if isinstance(value, bool | int | float):
        value = str(value)  # a phone number posted as a JSON number, say
    # The API's own schema, one field at a time so that each error names its source field.
    return _field_schema(target).load({target: value})[target]


@lru_cache(maxsize=len(CONTACT_FIELDS))
def _field_schema(target: str) -> ContactFields:
    """Made once per field: building a schema costs more than loading with it (loads share no state)."""
    return ContactFields(only=(target,))


def _read_at_most(limit: int) -> bytes:
    """Up to `limit` bytes of the body: one read() may return less than asked (a chunked body)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = request.stream.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _read_payload() -> tuple[Any, tuple[int, str, str] | None]:
    """The posted JSON, reading at most MAX_BODY + 1 bytes; or (status, code, message) for an error."""
    too_large = (413, "too_large", f"Send at most {MAX_BODY // 1024} KB.")
    if (request.content_length or 0) > MAX_BODY:
        return None, too_large
    if not request.is_json:
        return None, (400, "bad_request", "Send a JSON object (Content-Type: application/json).")
    try:
        raw = _read_at_most(MAX_BODY + 1)
    except RequestEntityTooLarge:  # past the app's MAX_CONTENT_LENGTH, if set below MAX_BODY
        return None, too_large
    if len(raw) > MAX_BODY:
        return None, too_large
    try:
        return loads_body(raw), None
    except JsonTooDeep as exc:
        return None, (400, "bad_request", exc.description)
    except ValueError:
        return None, (400, "bad_request", "The request body is not valid JSON.")


@bp.post("/<int:workflow_id>/<secret>")
def receive(workflow_id: int, secret: str):
    target = workflow_hooks.find_target(db.session, workflow_id) if 0 < workflow_id <= MAX_ID else None
    if target is None or not target.accepts(secret, workflow_id, current_app.config["SECRET_KEY"]):
        return _error(404, "not_found", "No such webhook.")
    account_id, graph = target.account_id, workflow_hooks.published_graph(db.session, target)
    trigger = (graph or {}).get("trigger") or {}
    live = trigger.get("type") == INBOUND_WEBHOOK
    listening = target.listening()
    if not live and not listening:
        return _error(409, "conflict", "This workflow is not published with an inbound webhook trigger.")
    payload, problem = _read_payload()
    if problem is not None:
        return _error(*problem)
    if not isinstance(payload, dict):
        return _error(400, "bad_request", "Send a JSON object.")
    # Kept (and committed) before the mapping is applied: a payload the mapping refuses is just what
    # the person fixing the mapping needs to see.
    captured = listening and workflow_hooks.capture(db.session, workflow_id, payload)
    if captured:
        db.session.commit()
    if not live:
        if not captured:  # a request racing this one took the capture
            return _error(409, "conflict", "This workflow is not published with an inbound webhook trigger.")
        return jsonify({"captured": True, "enrolled": False}), 202

    values, errors = mapped_values(payload, (trigger.get("config") or {}).get("field_map") or {})
    if errors:
        first = next(iter(errors))
        return _error(422, "validation_error", f"{first}: {errors[first][0]}", errors)
    contact = _find(account_id, values)
    created = contact is None
    if created and not values.get("phone") and not values.get("email"):
        return _error(422, "validation_error",
                      "Map a phone or email field in the trigger so the contact can be found or created.")
    fields = _contact_fields(values)
    after = AfterCommit()

    def hook_event(found: Contact) -> list[Event]:
        return [Event(INBOUND_WEBHOOK, found.id, f"webhook:{workflow_id}:{uuid.uuid4().hex}", workflow_id=workflow_id)]

    if created:
        contact = contacts.create_contact(account_id, fields, after, also=hook_event)
    else:
        contacts.apply_changes(contact, fields)
        db.session.flush()
        after.started.extend(enrollment.enroll(db.session, account_id, hook_event(contact), loaded=[contact]))
    contact_id, started = contact.id, list(after.started)
    db.session.commit()
    carry_out_committed(after)
    body: dict[str, Any] = {"contact_id": contact_id, "created": created, "enrollment_ids": started}
    if captured:
        body["captured"] = True
    return jsonify(body), 202


def _contact_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Mapped values in the contact API's shape: `custom.<name>` keys merge into custom_fields."""
    fields: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("custom.")}
    custom = {k.removeprefix("custom."): v for k, v in values.items() if k.startswith("custom.")}
    if custom:
        fields["custom_fields"] = custom
    return fields


# Built once (see builder.domain.enrollment): the oldest live contact of the account with this phone or email.
# Mapped fields never include tags, so they are not loaded (they still load if something reads them).
_FIND = {name: select(Contact).options(lazyload(Contact.tag_rows))
         .where(Contact.account_id == bindparam("account_id"), Contact.deleted_at.is_(None),
                getattr(Contact, name) == bindparam("value"))
         .order_by(Contact.id).limit(1)
         for name in ("phone", "email")}


def _find(account_id: int, values: dict[str, Any]) -> Contact | None:
    for name in ("phone", "email"):
        if values.get(name):
            found = db.session.scalar(_FIND[name], {"account_id": account_id, "value": values[name]})
            if found is not None:
                return found
    return None
