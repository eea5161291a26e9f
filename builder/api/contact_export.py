"""GET /api/contacts/export.csv: the contacts list's current filter as a CSV file, streamed.

The same filters as GET /api/contacts (q, tag, assigned_user_id, is_test) over the contacts the caller may
see (agents: those assigned to them). Columns: the standard fields, tags (separated by ", "), the
assignee's email, then one column per custom field: the account's defined fields in their order, then any
other key a contact holds. A cell a spreadsheet would run as a formula (=, +, -, @ first, so phone numbers
too) starts with an apostrophe, which the importer drops again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from flask import Response, current_app, g
from sqlalchemy import Select, select

from builder.api.base import blueprint
from builder.api.contacts import ContactQuery
from builder.domain import contact_import, contacts
from builder.extensions import db
from builder.models import Contact, ContactTag, User
from builder.schemas.fields import PageQuery

bp = blueprint("api_contact_export", "/contacts", description="Contacts")
ROWS_PER_QUERY = 1000
STANDARD = ("id", "first_name", "last_name", "email", "phone", "timezone", "tags", "assigned_to", "dnd_sms",
            "dnd_call", "dnd_email", "engagement_score", "is_test", "created_at")


class ExportQuery(ContactQuery):
    class Meta:
        exclude = tuple(PageQuery._declared_fields)  # the whole filter, not a page of it


@bp.get("/export.csv")
@bp.arguments(ExportQuery, location="query")
@bp.response(200, content_type="text/csv")
def export_contacts(args: dict[str, Any]):
    """Every contact the filters match (and the caller may see), oldest first, as CSV."""
    query = contacts.matching(g.user, args)
    custom_keys = _custom_columns(g.user.account_id, query)
    emails = dict(db.session.execute(select(User.id, User.email).where(User.account_id == g.user.account_id)).all())
    db.session.rollback()  # end the read: the pages are read in contexts of their own (SQLite: one writer)
    columns = query.with_only_columns(Contact.id, Contact.first_name, Contact.last_name, Contact.email,
                                      Contact.phone, Contact.timezone, Contact.assigned_user_id, Contact.dnd_sms,
                                      Contact.dnd_call, Contact.dnd_email, Contact.engagement_score, Contact.is_test,
                                      Contact.created_at, Contact.custom_fields)
    header = csv_line([*STANDARD, *custom_keys])
    body = paged(lambda after: _page(columns, after, custom_keys, emails))
    return Response(chain([header], body), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="contacts.csv"'})


def csv_line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def paged(read: Callable[[int], tuple[str, int | None]]) -> Iterator[str]:
    """A streamed body, page by page: `read(after)` answers a page's text and the key to read the next page
    after (None at the end). Each page is read in an app context of its own, ended before the page is sent:
    the request's context is gone by then, no transaction stays open while the client reads (on SQLite it
    would hold the write lock), and a client that goes away leaves nothing pushed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  (now: the body is sent without one)

    def pages() -> Iterator[str]:
        after: int | None = 0
        while after is not None:
            with app.app_context():
                text, after = read(after)
            yield text

    return pages()


def _custom_columns(account_id: int, query: Select) -> list[str]:
    """The account's custom fields in their order, then other keys the matching contacts hold (read by page:
    only the keys stay in memory)."""
    keys = dict.fromkeys(contact_import.custom_field_labels(account_id))
    rows = query.with_only_columns(Contact.id, Contact.custom_fields).order_by(Contact.id).limit(ROWS_PER_QUERY)
    after = 0
    while page := db.session.execute(rows.where(Contact.id > after)).all():
        for _, values in page:
            keys.update(dict.fromkeys(values or {}))
        after = page[-1][0]
    return list(keys)


def _page(columns: Select, after: int, custom_keys: list[str], emails: dict[int, str]) -> tuple[str, int | None]:
    page = db.session.execute(columns.where(Contact.id > after).order_by(Contact.id).limit(ROWS_PER_QUERY)).all()
    tags: dict[int, list[str]] = {}
    for contact_id, tag in db.session.execute(
            select(ContactTag.contact_id, ContactTag.tag).where(ContactTag.contact_id.in_([r[0] for r in page]))
            .order_by(ContactTag.contact_id, ContactTag.tag)):
        tags.setdefault(contact_id, []).append(tag)
    out = io.StringIO()
    writer = csv.writer(out)
    for (cid, first, last, email, phone, tz, assignee, dnd_sms, dnd_call, dnd_email, score, is_test, created_at,
         custom) in page:
        custom = custom or {}
        cells = [cid, first, last, email or "", phone or "", tz, ", ".join(tags.get(cid, [])),
                 emails.get(assignee, ""), dnd_sms, dnd_call, dnd_email, score, is_test,
                 created_at.isoformat(timespec="seconds"),
                 *(_text(custom.get(key)) for key in custom_keys)]
        writer.writerow([contact_import.spreadsheet_safe(c) if isinstance(c, str) else c for c in cells])
    return out.getvalue(), page[-1][0] if len(page) == ROWS_PER_QUERY else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
