"""CSV import of contacts (admins and managers): upload, map the columns, start, follow, read the report.

1. POST /api/contacts/imports (multipart, the file in `file`, up to CONTACT_IMPORT_MAX_BYTES) stores the
   file and answers the header row, the first rows and a suggested mapping: the one last used for the
   same headers, else one by the headers' names.
2. POST /api/contacts/imports/<id>/start with the mapping (one target per column) and the options
   (duplicates: skip, update or create; tags for every imported contact; fire_created; a published
   workflow to add the contacts to, with drip batch_size / interval_seconds) queues the import job.
3. GET /api/contacts/imports/<id> follows it (the page also hears `contact_import.progress` live), and
   GET /api/contacts/imports/<id>/rejected.csv is the report: row number, reason, and the row as it was.

An import is seen by the account's admins and managers; another account's is a 404.
"""

from __future__ import annotations

import csv
import io
from itertools import chain
from typing import Any

from flask import Response, g
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from builder.api.base import blueprint, fail
from builder.api.contact_export import csv_line, paged
from builder.domain import contact_import
from builder.domain.access import EDITORS
from builder.extensions import db
from builder.http.auth import require_role
from builder.http.input_limits import larger_body
from builder.models import ContactImport, ContactImportRejection, ContactImportStatus, Workflow, utcnow
from builder.schemas.contact_imports import ContactImportSchema
from builder.schemas.fields import Flag, Id, Text
from jobqueue import contact_import as import_job
from jobqueue import effects, job_names
from jobqueue.queues import enqueue

bp = blueprint("api_contact_imports", "/contacts/imports", description="Contact CSV import")
MAX_BYTES = 50 * 1024 * 1024  # CONTACT_IMPORT_MAX_BYTES overrides it
PREVIEW_ROWS = 5
REPORT_ROWS_PER_QUERY = 1000


class ImportStart(Schema):
    mapping = fields.List(Text(validate=validate.Length(max=80)), required=True,
                          validate=validate.Length(min=1, max=contact_import.MAX_COLUMNS),
                          metadata={"description": "per column: first_name, last_name, email, phone, timezone, "
                                                   "custom:<key>, tag or ignore"})
    duplicates = fields.String(load_default="skip", validate=validate.OneOf(contact_import.DUPLICATE_MODES),
                               metadata={"description": "a row whose phone (else email) matches a contact"})
    tags = fields.List(Text(validate=validate.Length(min=1, max=contact_import.TAG_MAX)), load_default=list,
                       validate=validate.Length(max=20), metadata={"description": "added to every imported contact"})
    fire_created = Flag(load_default=False, metadata={"description": "run 'contact created' workflows for new ones"})
    workflow_id = Id(load_default=None, allow_none=True,
                     metadata={"description": "a published workflow the imported contacts are added to"})
    batch_size = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10_000))
    interval_seconds = fields.Integer(load_default=0, validate=validate.Range(min=0, max=30 * 86400))
    remember = Flag(load_default=True, metadata={"description": "offer this mapping again for these headers"})


class UploadForm(Schema):
    file = Upload(required=True, metadata={"description": "the CSV file; the first row names the columns"})


class TargetSchema(Schema):
    value = fields.String()
    label = fields.String()


class UploadSchema(ContactImportSchema):
    preview = fields.List(fields.List(fields.String()), metadata={"description": "the first rows"})
    suggested_mapping = fields.List(fields.String())
    remembered = fields.Boolean(metadata={"description": "the suggestion is the mapping last used for these headers"})
    targets = fields.List(fields.Nested(TargetSchema), metadata={"description": "what a column may map to"})


def find_import(import_id: int) -> ContactImport:
    found = db.session.get(ContactImport, import_id)
    if found is None or found.account_id != g.user.account_id:
        fail(404, f"Import {import_id} not found.")
    return found


def _targets(custom: dict[str, str]) -> list[dict[str, str]]:
    return ([{"value": key, "label": label} for key, label in contact_import.STANDARD.items()]
            + [{"value": contact_import.CUSTOM + key, "label": f"Custom: {label}"} for key, label in custom.items()]
            + [{"value": contact_import.TAG, "label": "Tags"}, {"value": contact_import.IGNORE, "label": "Ignore"}])


@bp.post("")
@larger_body("CONTACT_IMPORT_MAX_BYTES", MAX_BYTES)  # only this route takes more than MAX_CONTENT_LENGTH
@require_role(*EDITORS)
@bp.arguments(UploadForm, location="files")
@bp.response(201, UploadSchema)
def upload(files: dict[str, Any]):
    """Store a CSV file (multipart, field `file`) and answer its headers, first rows and a suggested mapping."""
    upload = files["file"]
    if not upload.filename:
        fail(422, "file: Choose a CSV file to upload.", {"file": ["Choose a CSV file to upload."]})
    folder = import_job.upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = import_job.new_stored_name(g.user.account_id)
    path = folder / stored_name
    upload.save(path)
    with open(path, "rb") as handle:
        file_format = import_job.sniff_format(handle.read(import_job.SNIFF_BYTES))
    try:
        headers, rows = import_job.preview(path, file_format, PREVIEW_ROWS)
    except (csv.Error, UnicodeDecodeError) as exc:
        path.unlink(missing_ok=True)
        fail(422, f"file: This is not a CSV file we can read ({exc}).", {"file": [f"Not a readable CSV file: {exc}"]})
    headers = [h.strip() for h in headers]
    problem = ("The file is empty: the first row must name the columns." if not any(headers) else
               f"The file has {len(headers)} columns; at most {contact_import.MAX_COLUMNS} are imported."
               if len(headers) > contact_import.MAX_COLUMNS else None)
    if problem:
        path.unlink(missing_ok=True)
        fail(422, f"file: {problem}", {"file": [problem]})
    found = ContactImport(account_id=g.user.account_id, user_id=g.user.id, filename=upload.filename[:255],
                          stored_name=stored_name, file_format=file_format, headers=headers)
    db.session.add(found)
    custom = contact_import.custom_field_labels(g.user.account_id)
    remembered = contact_import.remembered_mapping(g.user.account_id, headers)
    db.session.commit()
    answer = {name: getattr(found, name) for name in ContactImportSchema._declared_fields}
    return {**answer, "preview": rows, "remembered": remembered is not None,
            "suggested_mapping": remembered or contact_import.suggest_mapping(headers, custom),
            "targets": _targets(custom)}


@bp.post("/<int:import_id>/start")
@require_role(*EDITORS)
@bp.arguments(ImportStart)
@bp.response(202, ContactImportSchema)
def start(data: dict[str, Any], import_id: int):
    """Start an uploaded import with its mapping and options; the job runs on the workers."""
    found = find_import(import_id)
    if found.status != ContactImportStatus.UPLOADED:
        fail(409, "This import has already been started.")
    custom = set(contact_import.custom_field_labels(g.user.account_id))
    contact_import.check_mapping(data["mapping"], found.headers, custom)
    if data["workflow_id"] is not None:
        workflow = db.session.get(Workflow, data["workflow_id"])
        if (workflow is None or workflow.account_id != g.user.account_id or workflow.deleted_at is not None
                or workflow.published_version_id is None):
            fail(422, "workflow_id: Choose a published workflow of your account.",
                 {"workflow_id": ["Choose a published workflow of your account."]})
    if data.pop("remember"):
        contact_import.remember_mapping(g.user.account_id, found.headers, data["mapping"])
    found.mapping = data.pop("mapping")
    found.options = {**data, "tags": contact_import.split_tags(",".join(data["tags"]))}
    found.status = ContactImportStatus.QUEUED.value
    found.updated_at = utcnow()  # the reconciler starts it if its job is lost from here on
    db.session.commit()
    with effects.deferrable(f"contact import {found.id}"):  # the reconciler starts it if Redis is away
        enqueue(job_names.CONTACT_IMPORT, found.id)
    return found


@bp.get("/<int:import_id>")
@require_role(*EDITORS)
@bp.response(200, ContactImportSchema)
def get_import(import_id: int):
    """Status and counts."""
    return find_import(import_id)


@bp.get("/<int:import_id>/rejected.csv")
@require_role(*EDITORS)
@bp.response(200, content_type="text/csv")
def rejected_rows(import_id: int):
    """The rejected rows: row (1 = the first row after the header), reason, then the row's cells as uploaded
    (a cell a spreadsheet would run as a formula starts with an apostrophe)."""
    found = find_import(import_id)
    header, import_id = ["row", "reason", *found.headers], found.id
    db.session.rollback()  # end the read: the pages are read in contexts of their own (SQLite: one writer)
    body = paged(lambda after: _report_page(import_id, after))
    return Response(chain([csv_line(header)], body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rejected-rows-{import_id}.csv"'})


def _report_page(import_id: int, after: int) -> tuple[str, int | None]:
    """Rejected rows after row `after`, by row number: the report may hold a whole file of refused rows."""
    page = db.session.execute(
        select(ContactImportRejection.row_number, ContactImportRejection.reason, ContactImportRejection.values)
        .where(ContactImportRejection.import_id == import_id, ContactImportRejection.row_number > after)
        .order_by(ContactImportRejection.row_number).limit(REPORT_ROWS_PER_QUERY)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    for number, reason, values in page:
        writer.writerow([number, reason, *map(contact_import.spreadsheet_safe, values)])
    return out.getvalue(), page[-1][0] if len(page) == REPORT_ROWS_PER_QUERY else None
