"""Conversation threads: the row shape of a message, and its live events.

A thread row is one message as the contact page and Let's Start show it: body,
direction, delivery status (with the provider's error code when it failed), its
times, and who sent it: `sent_by` {id, name} for a person, `workflow` {id, name}
for automation (a Manual SMS has both; an automatic HELP reply has neither).
Rows are read in one query, the sender and workflow names joined in.

Events, payload = the thread row (as GET /api/contacts/<id>/messages lists it):
- `message.created`: a message entered a thread (inbound, automated or manual);
- `message.updated`: its status changed (sent, delivered, failed, retried, ...).
And `contact.updated`, payload = the contact (as GET /api/contacts/<id> returns it),
when the contact's details change: an edit, or a STOP / START reply turning SMS
do-not-disturb on or off, so an open composer knows at once.
A page joins its viewer's room for the contact (`contact:<id>:user:<uid>`) with
`contact.watch` while it shows the thread. Who hears an event is decided when it is
published, from the database as it is then: the rooms of the contact's current
assignee and of the account's active admins and managers. Room membership is never
trusted for access, so a reassignment (from a request or a worker), a role change
or a deactivation takes effect on the very next event, in every process, with no
rooms to tidy up; the former assignee's open page simply hears nothing more. A
busy account's SMS reach only the pages that show them. Call the publishers after
the change commits;
like every live event (builder.live.emit), publishing is best effort and never raises into the caller
(pages refetch over REST when they reconnect).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import ColumnElement, inspect, select

from builder.domain.access import active_ids, staff_ids
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.live import emit
from builder.models import Contact, Message
from builder.schemas.contacts import ContactSchema
from builder.schemas.messages import ThreadMessageSchema, thread_query, thread_row

log = logging.getLogger(__name__)

EVENTS = ("created", "updated")

CONTACT_EVENT = "contact.updated"
_SCHEMA = ThreadMessageSchema()


# --- publishing ---------------------------------------------------------------

def viewer_room(contact_id: int, user_id: int) -> str:
    """One person's pages showing one contact (`contact.watch`, checked in builder.live.sockets)."""
    return f"contact:{contact_id}:user:{user_id}"


def audience(contacts: Iterable[tuple[int, int, int | None]]) -> dict[int, list[str]]:
    """(contact id, account id, assignee id) -> the rooms that may hear about each contact right now.

    Read at publish time rather than kept in room membership: the rooms of the current assignee and of the
    account's active admins and managers. A deactivated assignee hears nothing.
    """
    contacts = list(contacts)
    staff = staff_ids(account_id for _, account_id, _ in contacts)
    assignees: dict[int, set[int]] = {}
    for _, account_id, assignee in contacts:
        if assignee is not None:
            assignees.setdefault(account_id, set()).add(assignee)
    active = {account_id: active_ids(account_id, ids) for account_id, ids in assignees.items()}
    rooms: dict[int, list[str]] = {}
    for contact_id, account_id, assignee in contacts:
        people = list(staff[account_id])
        if assignee is not None and assignee in active.get(account_id, ()) and assignee not in people:
            people.append(assignee)
        rooms[contact_id] = [viewer_room(contact_id, user_id) for user_id in people]
    return rooms


def publish(messages: Iterable[int | Message], event: str) -> None:
    """Announce these messages (ids or rows, just committed) to everyone who may see their contacts."""
    ids = [_id(m) for m in messages]
    if ids:
        publish_where(Message.id.in_(ids), event)


def publish_where(condition: ColumnElement[bool], event: str) -> None:
    """As publish(), for callers that know the message by something else (e.g. Twilio's SID)."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
    emit.publish_safely(lambda: _messages(condition, event), "conversation events")


def _id(message: int | Message) -> int:
    if isinstance(message, int):
        return message
    # The identity survives a commit's expiry; reading message.id would cost a query per message.
    identity = inspect(message).identity
    return identity[0] if identity else message.id


def _messages(condition: ColumnElement[bool], event: str) -> list[emit.Emit]:
    query = thread_query(condition).order_by(Message.id)
    rows = [(message, thread_row(message, name, email, workflow), assignee)
            for message, name, email, workflow, assignee in db.session.execute(query)]
    rooms = audience({(m.contact_id, m.account_id, assignee) for m, _, assignee in rows})
    return [(f"message.{event}", _SCHEMA.dump(row), rooms[m.contact_id]) for m, row, _ in rows
            if rooms[m.contact_id]]


def publish_contacts(contact_ids: Iterable[int]) -> None:
    """Announce these contacts' committed details to the pages showing them (deleted ones are skipped)."""
    ids = sorted(set(contact_ids))
    if ids:
        emit.publish_safely(lambda: _contact_messages(ids), "contact events")


def prepare_contacts(after: AfterCommit, dumped: Iterable[tuple[Contact, dict]]) -> None:
    """Read who hears about these contacts now, in the change's own transaction, with their payloads as
    dumped for the answer: the publish after the commit then sends them as they are, with no second
    transaction to read them again (on SQLite, one more turn of the write lock for every edit)."""
    dumped = [(contact, payload) for contact, payload in dumped if contact.deleted_at is None]
    rooms = audience((c.id, c.account_id, c.assigned_user_id) for c, _ in dumped)
    ids = {contact.id for contact, _ in dumped}
    after.contacts[:] = [cid for cid in after.contacts if cid not in ids]
    after.ready_events.extend((CONTACT_EVENT, payload, rooms[contact.id]) for contact, payload in dumped
                              if rooms[contact.id])


def _contact_messages(ids: list[int]) -> list[emit.Emit]:
    schema = ContactSchema()
    contacts = db.session.scalars(
        select(Contact).where(Contact.id.in_(ids), Contact.deleted_at.is_(None)).order_by(Contact.id)
        .execution_options(populate_existing=True)
    ).all()
    rooms = audience((c.id, c.account_id, c.assigned_user_id) for c in contacts)
    return [(CONTACT_EVENT, schema.dump(contact), rooms[contact.id]) for contact in contacts if rooms[contact.id]]
