"""Live progress of a contact import, to the person who started it (their own room, builder.live.emit).

- `contact_import.progress`: the import as GET /api/contacts/imports/<id> answers it, after each chunk
  the job commits and when it ends. The import page falls back to polling that URL while the socket is down.

Published from the import job (a worker); best effort like every live event.
"""

from __future__ import annotations

from builder.extensions import db
from builder.live import emit
from builder.models import ContactImport
from builder.schemas.contact_imports import ContactImportSchema

PROGRESS_EVENT = "contact_import.progress"
_SCHEMA = ContactImportSchema()


def publish_progress(import_id: int) -> None:
    emit.publish_safely(lambda: _messages(import_id), "import progress")


def _messages(import_id: int) -> list[emit.Emit]:
    found = db.session.get(ContactImport, import_id)
    if found is None or found.user_id is None:
        return []
    return [(PROGRESS_EVENT, _SCHEMA.dump(found), emit.user_room(found.user_id))]
