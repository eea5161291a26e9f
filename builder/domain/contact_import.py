"""CSV import of contacts: what a column may map to, the mapping suggested for a header row, and
the rules one row must pass to become a contact.

A mapping is a list with one target per column of the file: a standard field (`first_name`,
`last_name`, `email`, `phone`, `timezone`), `custom:<key>` (a custom field), `tag` (the cell
holds tags, separated by commas or semicolons) or `ignore`. The job (jobqueue.contact_import)
reads the file in chunks and calls `RowReader.read` for each row; a refused row raises
`RowRejected` with the reason people see in the report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError, validate

from builder.domain import custom_fields
from builder.domain.errors import Invalid
from builder.domain.phones import normalize_phone
from builder.extensions import db
from builder.models import ContactImportMapping, utcnow

STANDARD = {"first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
            "timezone": "Time zone"}
TAG, IGNORE, CUSTOM = "tag", "ignore", "custom:"
IDENTITY = ("first_name", "last_name", "email", "phone")  # a contact needs one of these
LENGTHS = {"first_name": 100, "last_name": 100, "email": 254}
TAG_MAX = 100
MAX_COLUMNS = 200
DUPLICATE_MODES = ("skip", "update", "create")
# Header spellings people use for the standard fields (compared without case, spaces, dashes, underscores).
SYNONYMS = {
    "first_name": {"firstname", "first", "givenname", "forename", "name"},
    "last_name": {"lastname", "last", "surname", "familyname"},
    "email": {"email", "emailaddress", "mail"},
    "phone": {"phone", "phonenumber", "mobile", "mobilephone", "cell", "cellphone", "telephone", "tel", "number"},
    "timezone": {"timezone", "tz", "zone"},
    TAG: {"tag", "tags", "labels"},
}
# What a spreadsheet would run as a formula; exports quote such cells with a leading apostrophe (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EMAIL = validate.Email()


class RowRejected(ValueError):
    """A row that cannot become a contact; the message is the report's reason."""


def _squashed(header: str) -> str:
    return re.sub(r"[\s_\-.]+", "", header.strip().lower())


def headers_key(headers: Sequence[str]) -> str:
    """What a remembered mapping is filed under: the header row, ignoring case and spacing."""
    return hashlib.sha256("\x1f".join(_squashed(h) for h in headers).encode()).hexdigest()


def suggest_mapping(headers: Sequence[str], custom_keys: dict[str, str]) -> list[str]:
    """A target per column by its header: a standard field's usual names, then a custom field's key or
    label (`custom_keys`: key -> label), else ignore. A standard field is suggested once, for its first column."""
    by_name = {_squashed(label): key for key, label in custom_keys.items()}
    by_name.update({_squashed(key): key for key in custom_keys})
    taken: set[str] = set()
    mapping = []
    for header in headers:
        name = _squashed(header)
        target = next((f for f, names in SYNONYMS.items() if name in names and f not in taken), None)
        if target is None and name in by_name:
            target = CUSTOM + by_name[name]
        if target is None or target in taken:
            target = IGNORE
        if target != TAG:
            taken.add(target)
        mapping.append(target)
    return mapping


def remembered_mapping(account_id: int, headers: Sequence[str]) -> list[str] | None:
    found = db.session.get(ContactImportMapping, (account_id, headers_key(headers)))
    if found is None or len(found.mapping) != len(headers):
        return None
    return list(found.mapping)


def remember_mapping(account_id: int, headers: Sequence[str], mapping: list[str]) -> None:
    """File the mapping under the header row, replacing the one used before (in the caller's transaction)."""
    key = headers_key(headers)
    row = db.session.get(ContactImportMapping, (account_id, key))
    if row is None:
        db.session.add(ContactImportMapping(account_id=account_id, headers_key=key, mapping=mapping))
    else:
        row.mapping, row.updated_at = mapping, utcnow()


def custom_field_labels(account_id: int) -> dict[str, str]:
    """The account's custom fields, key -> label, in their order."""
    return {f.key: f.label for f in custom_fields.account_fields(account_id)}


def check_mapping(mapping: list[str], headers: Sequence[str], custom_keys: set[str]) -> None:
    """Invalid naming `mapping.<column>` unless every column has a known target, no standard field is
    mapped twice and the contact can be told apart (a name, an email or a phone is mapped)."""
    if len(mapping) != len(headers):
        raise Invalid.at({"mapping": [f"Give one target per column: the file has {len(headers)} columns."]})
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, target in enumerate(mapping):
        if target in (TAG, IGNORE):
            continue
        if target.startswith(CUSTOM):
            key = target[len(CUSTOM):]
            known = key in custom_keys or (not custom_keys and custom_fields.KEY.fullmatch(key))
            if not known:
                errors[f"mapping.{index}"] = [f"No custom field has the key {key}."]
            elif target in seen:
                errors[f"mapping.{index}"] = [f"The custom field {key} is already column {seen[target] + 1}."]
            seen.setdefault(target, index)
            continue
        if target not in STANDARD:
            errors[f"mapping.{index}"] = [f"Unknown target {target!r}: a contact field, custom:<key>, tag or ignore."]
        elif target in seen:
            errors[f"mapping.{index}"] = [f"{STANDARD[target]} is already column {seen[target] + 1}."]
        seen.setdefault(target, index)
    if errors:
        raise Invalid.at(errors)
    if not any(field in seen for field in IDENTITY):
        raise Invalid.at({"mapping": ["Map a name, email or phone column: a contact needs one of them."]})


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def unquoted(cell: str) -> str:
    """A cell as people meant it: trimmed, and without the apostrophe an export puts before a formula
    character (so a file exported here imports again unchanged)."""
    text = cell.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe."""
    return f"'{cell}" if cell and cell.startswith(FORMULA_START) else cell


def split_tags(cell: str) -> list[str]:
    return [tag.strip() for tag in re.split(r"[,;]", cell) if tag.strip()]


@dataclass
class ImportedRow:
    """One row read: the contact's standard fields, custom values and tags (as written in the file)."""

    fields: dict[str, Any]
    custom: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    @property
    def phone(self) -> str | None:
        return self.fields.get("phone")

    @property
    def email(self) -> str | None:
        return self.fields.get("email")


class RowReader:
    """Reads rows by one mapping: normalises phones (E.164, `region` for numbers without a country code)
    and emails (lower case), checks lengths, time zones and custom field values."""

    def __init__(self, account_id: int, mapping: list[str], region: str, *, has_custom_fields: bool) -> None:
        self.account_id, self.mapping, self.region = account_id, mapping, region
        # With no custom fields defined, values are kept as text under the mapped key (validate_values
        # would pass them through anyway; skipping it saves a query per row).
        self.check_custom = has_custom_fields

    def read(self, cells: Sequence[str]) -> ImportedRow:
        if len(cells) > len(self.mapping) and any(c.strip() for c in cells[len(self.mapping):]):
            raise RowRejected(f"The row has {len(cells)} cells; the header has {len(self.mapping)}.")
        row = ImportedRow(fields={})
        for column, (target, raw) in enumerate(zip(self.mapping, cells, strict=False), start=1):
            value = unquoted(raw)
            if not value or target == IGNORE:
                continue
            if "\x00" in value:  # neither database stores it in text
                raise RowRejected(f"Column {column}: contains a NUL character.")
            if target == TAG:
                row.tags.extend(self._tags(value))
            elif target.startswith(CUSTOM):
                row.custom[target[len(CUSTOM):]] = value
            else:
                row.fields[target] = self._standard(target, value)
        if not any(row.fields.get(name) for name in IDENTITY):
            raise RowRejected("The row has no name, email or phone.")
        if row.custom and self.check_custom:
            try:
                row.custom = custom_fields.validate_values(self.account_id, row.custom, region=self.region)
            except Invalid as exc:
                raise RowRejected(exc.message.removeprefix("custom_fields.")) from None
        return row

    def _standard(self, target: str, value: str) -> str:
        if target in LENGTHS and len(value) > LENGTHS[target]:
            raise RowRejected(f"{STANDARD[target]}: at most {LENGTHS[target]} characters.")
        if target == "phone":
            try:
                return normalize_phone(value, self.region)
            except ValueError as exc:
                raise RowRejected(f"Phone: {exc}") from None
        if target == "email":
            try:
                return _EMAIL(value).lower()
            except ValidationError:
                raise RowRejected(f"Email: {value} is not a valid email address.") from None
        if target == "timezone" and value not in _timezones():
            raise RowRejected(f"Time zone: {value} is not a known IANA time zone (e.g. America/New_York).")
        return value

    @staticmethod
    def _tags(value: str) -> list[str]:
        tags = split_tags(value)
        too_long = next((t for t in tags if len(t) > TAG_MAX), None)
        if too_long:
            raise RowRejected(f"Tags: {too_long[:20]}… is longer than {TAG_MAX} characters.")
        return tags
