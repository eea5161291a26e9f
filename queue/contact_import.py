"""The contact import job: reads an uploaded CSV in chunks and writes each chunk in one transaction.

Memory stays bounded whatever the file's size: the csv module streams it, a chunk (CONTACT_IMPORT_CHUNK_ROWS
rows) is looked up, inserted and updated with a few bulk statements, and only the counters travel between
chunks. Each chunk first claims its rows (`processed` moves from the chunk's first row to its last, only if
it still stood at the first) and commits its contacts, rejected rows and counters together: a worker killed
mid-import leaves the import at the last committed chunk, and the next run (RQ's retry, or the reconciler,
which finds imports left queued or running) starts there, so no row is imported twice. A second job on the
same import finds its claim taken and stops.

A job works for at most CONTACT_IMPORT_JOB_SECONDS, then enqueues the rest as a new job: far below RQ's
time-out, and other jobs get the worker in between.

Duplicates: a row matches the account's contact with the same phone, else the same email (case aside),
including contacts made by earlier rows of the file. `skip` leaves the contact as it is, `update` writes
the row's non-empty cells over it (custom fields merged, tags added), `create` always makes a new contact.
"""

from __future__ import annotations

import csv
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from builder.domain import custom_fields, enrollment
from builder.domain.contact_import import ImportedRow, RowReader, RowRejected
from builder.domain.enrollment import tag_events
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.live import import_events
from builder.models import (
    Contact,
    ContactImport,
    ContactImportContact,
    ContactImportRejection,
    ContactTag,
    Workflow,
    utcnow,
)
from builder.models import ContactImportStatus as Status
from engine.triggers import CONTACT_CREATED, Event
from jobqueue import effects, enroll, job_names
from jobqueue.queues import enqueue

log = logging.getLogger(__name__)
CHUNK_ROWS = 1000
JOB_SECONDS = 300
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
OPEN = (Status.QUEUED.value, Status.RUNNING.value)
csv.field_size_limit(1024 * 1024)  # a cell bigger than this is no contact field: the row fails to parse


# --- the stored file ------------------------------------------------------------------------------

def upload_dir() -> Path:
    return Path(current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports")


def new_stored_name(account_id: int) -> str:
    return f"{account_id}-{uuid.uuid4().hex}.csv"


def file_path(found: ContactImport) -> Path:
    return upload_dir() / found.stored_name


def sniff_format(head: bytes) -> dict[str, str]:
    """How to read a file from its first bytes: UTF-8 (BOM or not) unless it does not decode, then Windows-1252
    (Excel's "CSV" on Windows); the delimiter csv.Sniffer finds among , ; tab |, else a comma."""
    try:
        text = head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            text, encoding = head[:exc.start].decode("utf-8-sig"), "utf-8-sig"
        else:
            text, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 5)[0] if text else ",", delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    return {"encoding": encoding, "delimiter": delimiter}


def open_rows(path: Path, file_format: dict[str, str]) -> tuple[IO[str], Iterator[list[str]]]:
    handle = open(path, newline="", encoding=file_format["encoding"])  # noqa: SIM115  (closed by the caller)
    return handle, csv.reader(handle, delimiter=file_format["delimiter"])


def preview(path: Path, file_format: dict[str, str], rows: int) -> tuple[list[str], list[list[str]]]:
    """The header row and the first `rows` data rows."""
    handle, reader = open_rows(path, file_format)
    with handle:
        header = next(reader, [])
        return header, list(islice(reader, rows))


def remove_file(found: ContactImport) -> None:
    file_path(found).unlink(missing_ok=True)


# --- the job --------------------------------------------------------------------------------------

def run(import_id: int) -> None:
    """Import the rest of the file (from the last committed chunk), for at most JOB_SECONDS."""
    found = db.session.get(ContactImport, import_id)
    if found is None or found.status not in OPEN:
        db.session.rollback()
        return
    path = file_path(found)
    if not path.exists():
        _fail(found, "The uploaded file is no longer there; upload it again.")
        return
    try:
        if found.total is None:
            found.total = _count_rows(path, found.file_format)
        found.status, found.updated_at = Status.RUNNING.value, utcnow()
        db.session.commit()
        import_events.publish_progress(import_id)
        if _import_rows(found, path):
            _finish(import_id)
    except (csv.Error, UnicodeDecodeError) as exc:
        db.session.rollback()
        _fail(db.session.get(ContactImport, import_id), f"The file could not be read past row "
                                                          f"{found.processed}: {exc}")
    except BaseException:
        db.session.rollback()
        raise


def _count_rows(path: Path, file_format: dict[str, str]) -> int:
    handle, reader = open_rows(path, file_format)
    with handle:
        return max(sum(1 for _ in reader) - 1, 0)


def _import_rows(found: ContactImport, path: Path) -> bool:
    """Chunk after chunk from `processed` on; False if it stopped early (out of time, or another job
    holds the import), True once the file is done."""
    import_id, start = found.id, found.processed
    chunk_rows = int(current_app.config.get("CONTACT_IMPORT_CHUNK_ROWS", CHUNK_ROWS))
    deadline = time.monotonic() + float(current_app.config.get("CONTACT_IMPORT_JOB_SECONDS", JOB_SECONDS))
    chunk = Chunk.for_import(found)
    db.session.commit()  # end the read: on SQLite it would hold the write lock
    handle, reader = open_rows(path, found.file_format)
    with handle:
        next(reader, None)  # the header
        rows = islice(reader, start, None)
        while batch := list(islice(rows, chunk_rows)):
            if not chunk.write(start, batch):
                return False
            start += len(batch)
            import_events.publish_progress(import_id)
            if time.monotonic() > deadline:
                with effects.deferrable(f"the rest of contact import {import_id}"):
                    enqueue(job_names.CONTACT_IMPORT, import_id)
                return False
    return True


def _finish(import_id: int) -> None:
    """Mark the import finished and, if asked, send its contacts on into the workflow (one enroll request)."""
    found = db.session.get(ContactImport, import_id)
    if found is None or found.status != Status.RUNNING:
        db.session.rollback()
        return
    found.status, found.finished_at = Status.FINISHED.value, utcnow()
    found.updated_at = found.finished_at
    options = found.options or {}
    workflow = db.session.get(Workflow, options["workflow_id"]) if options.get("workflow_id") else None
    bulk = None
    if options.get("workflow_id"):
        if workflow is None or workflow.published_version is None or workflow.deleted_at is not None:
            found.error = "The contacts were not added to the workflow: it is no longer published."
        else:
            # create_request commits the finished import with the request: a re-run finds it finished.
            bulk = enroll.create_request(workflow, workflow.published_version, _imported_contacts(import_id),
                                         is_test=False, batch_size=options.get("batch_size"),
                                         interval_seconds=options.get("interval_seconds") or 0,
                                         user_id=found.user_id)
            found.bulk_enrollment_id = bulk.id
    db.session.commit()
    remove_file(found)
    import_events.publish_progress(import_id)
    log.info("contact import %s finished: %s created, %s updated, %s skipped, %s rejected", import_id,
             found.created, found.updated, found.skipped, found.rejected)


def _imported_contacts(import_id: int) -> enroll.ContactQuery:
    """Each contact the import created or updated once, in the order of its first row."""
    first = (select(ContactImportContact.contact_id, func.min(ContactImportContact.position).label("position"))
             .where(ContactImportContact.import_id == import_id).group_by(ContactImportContact.contact_id)
             .subquery())
    ids: Select = select(Contact.id).join(first, first.c.contact_id == Contact.id)
    return enroll.ContactQuery(ids=ids, order_by=first.c.position)


def _fail(found: ContactImport | None, error: str) -> None:
    if found is None:
        return
    found.status, found.error, found.finished_at = Status.FAILED.value, error, utcnow()
    found.updated_at = found.finished_at
    db.session.commit()
    remove_file(found)
    import_events.publish_progress(found.id)
    log.warning("contact import %s failed: %s", found.id, error)


# --- one chunk ------------------------------------------------------------------------------------

@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0


@dataclass
class Pending:
    """A contact this chunk creates, with the rows that found it as their duplicate merged in."""

    row_number: int
    values: dict[str, Any]
    tags: list[str] = field(default_factory=list)


@dataclass
class Chunk:
    """Writes chunks of one import: its options and row reader, read once."""

    import_id: int
    account_id: int
    reader: RowReader
    mode: str
    batch_tags: list[str]
    fire_created: bool
    keep_contacts: bool  # the contacts go on into a workflow afterwards

    @classmethod
    def for_import(cls, found: ContactImport) -> Chunk:
        options = found.options or {}
        defined = bool(custom_fields.defined_keys(found.account_id))
        reader = RowReader(found.account_id, found.mapping or [], current_app.config["DEFAULT_PHONE_REGION"],
                           has_custom_fields=defined)
        return cls(found.id, found.account_id, reader, options.get("duplicates", "skip"), options.get("tags") or [],
                   bool(options.get("fire_created")), bool(options.get("workflow_id")))

    def write(self, first: int, rows: list[list[str]]) -> bool:
        """Import rows first+1 .. first+len(rows) in one transaction; False if another job got there first."""
        counts = Counts()
        parsed: list[tuple[int, ImportedRow]] = []
        rejections = []
        for number, cells in enumerate(rows, start=first + 1):
            if not any(cell.strip() for cell in cells):
                counts.skipped += 1  # an empty line
                continue
            try:
                parsed.append((number, self.reader.read(cells)))
            except RowRejected as exc:
                rejections.append({"import_id": self.import_id, "row_number": number, "reason": str(exc),
                                   "values": [cell.replace("\x00", "") for cell in cells]})
        now = utcnow()
        claimed = db.session.execute(
            update(ContactImport).where(ContactImport.id == self.import_id, ContactImport.processed == first,
                                        ContactImport.status == Status.RUNNING)
            .values(processed=first + len(rows), updated_at=now).returning(ContactImport.id)).first()
        if claimed is None:
            db.session.rollback()
            log.info("contact import %s: rows after %s were taken by another job", self.import_id, first)
            return False
        after = AfterCommit()
        touched = self._write_contacts(parsed, counts, now, after)
        if rejections:
            db.session.execute(insert(ContactImportRejection), rejections)
            counts.rejected = len(rejections)
        if self.keep_contacts and touched:
            db.session.execute(insert(ContactImportContact), [
                {"import_id": self.import_id, "position": number, "contact_id": cid} for number, cid in touched])
        db.session.execute(update(ContactImport).where(ContactImport.id == self.import_id).values(
            created=ContactImport.created + counts.created, updated=ContactImport.updated + counts.updated,
            skipped=ContactImport.skipped + counts.skipped, rejected=ContactImport.rejected + counts.rejected))
        db.session.commit()
        if after.started:
            effects.carry_out_committed(after)
        return True

    def _write_contacts(self, parsed: list[tuple[int, ImportedRow]], counts: Counts, now,
                        after: AfterCommit) -> list[tuple[int, int]]:
        """Create and update the chunk's contacts; (row number, contact id) of each row written."""
        existing = self._existing(parsed)
        by_phone: dict[str, int | Pending] = {}
        by_email: dict[str, int | Pending] = {}
        for cid, phone, email, _ in existing:
            if phone:
                by_phone.setdefault(phone, cid)
            if email:
                by_email.setdefault(email, cid)
        custom_now = {cid: custom or {} for cid, _, _, custom in existing}
        creates: list[Pending] = []
        updates: dict[int, dict[str, Any]] = {}
        update_rows: list[tuple[int, int]] = []
        tags: dict[int, list[str]] = {}
        for number, row in parsed:
            match = None
            if self.mode != "create":
                match = by_phone.get(row.phone) if row.phone else None
                if match is None and row.email:
                    match = by_email.get(row.email)
            if match is None:
                pending = Pending(number, self._new_values(row, now), row.tags)
                creates.append(pending)
                if row.phone:
                    by_phone.setdefault(row.phone, pending)
                if row.email:
                    by_email.setdefault(row.email, pending)
            elif self.mode == "skip":
                counts.skipped += 1
            elif isinstance(match, Pending):  # an earlier row of this chunk: one contact, the later cells win
                match.values.update(row.fields)
                match.values["custom_fields"] = {**match.values["custom_fields"], **row.custom}
                match.tags.extend(row.tags)
                counts.updated += 1
            else:
                merged = updates.setdefault(match, {"id": match})
                merged.update(row.fields)
                if row.custom:
                    custom_now[match] = {**custom_now[match], **row.custom}
                    merged["custom_fields"] = custom_now[match]
                tags.setdefault(match, []).extend(row.tags)
                update_rows.append((number, match))
                counts.updated += 1
        created_ids = self._insert(creates)
        counts.created += len(created_ids)
        for pending, cid in zip(creates, created_ids, strict=True):
            tags[cid] = pending.tags
        self._update(updates, now)
        self._add_tags(tags)
        if self.fire_created and created_ids:
            events = [Event(CONTACT_CREATED, cid, f"contact_created:{cid}") for cid in created_ids]
            for cid in created_ids:
                events += tag_events(cid, added=_unique_tags(tags[cid] + self.batch_tags), removed=[])
            after.started.extend(enrollment.enroll(db.session, self.account_id, events))
        return [(p.row_number, cid) for p, cid in zip(creates, created_ids, strict=True)] + update_rows

    def _existing(self, parsed: list[tuple[int, ImportedRow]]) -> list[tuple[int, str | None, str | None, Any]]:
        """(id, phone, lower-case email, custom fields) of the account's contacts these rows may duplicate,
        oldest first (the first contact made with a phone is the one a row matches), in one query."""
        if self.mode == "create":
            return []
        phones = {row.phone for _, row in parsed if row.phone}
        emails = {row.email for _, row in parsed if row.email}
        if not phones and not emails:
            return []
        email = func.lower(Contact.email)
        wanted = [c for c in (Contact.phone.in_(phones) if phones else None,
                              email.in_(emails) if emails else None) if c is not None]
        return [tuple(r) for r in db.session.execute(
            select(Contact.id, Contact.phone, email, Contact.custom_fields)
            .where(Contact.account_id == self.account_id, Contact.deleted_at.is_(None), or_(*wanted))
            .order_by(Contact.id))]

    def _new_values(self, row: ImportedRow, now) -> dict[str, Any]:
        return {"account_id": self.account_id, "first_name": "", "last_name": "", "email": None, "phone": None,
                "timezone": "UTC", "assigned_user_id": None, "dnd_sms": False, "dnd_call": False, "is_test": False,
                "created_at": now, "updated_at": now, **row.fields, "custom_fields": dict(row.custom)}

    def _insert(self, creates: list[Pending]) -> list[int]:
        if not creates:
            return []
        # One multi-row INSERT ... RETURNING, ids in the rows' order.
        statement = insert(Contact).returning(Contact.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, [p.values for p in creates]))

    def _update(self, updates: dict[int, dict[str, Any]], now) -> None:
        # ORM bulk UPDATE by primary key, one executemany per set of columns.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in updates.values():
            values["updated_at"] = now
            groups.setdefault(tuple(sorted(values)), []).append(values)
        for rows in groups.values():
            db.session.execute(update(Contact), rows)

    def _add_tags(self, tags: dict[int, list[str]]) -> None:
        rows = [{"contact_id": cid, "tag": tag} for cid, own in tags.items()
                for tag in _unique_tags(own + self.batch_tags)]
        if rows:
            dialect = db.session.get_bind().dialect.name
            # A tag the contact already has (in any case: a unique index on lower(tag)) stays as it is.
            db.session.execute((pg_insert if dialect == "postgresql" else sqlite_insert)(ContactTag)
                               .on_conflict_do_nothing(), rows)


def _unique_tags(tags: list[str]) -> list[str]:
    """Each tag once, case aside, spelled as first written."""
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(tag.casefold(), tag)
    return list(seen.values())
