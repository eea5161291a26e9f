"""Texting (or calling) a contact by hand: whether we may, when, and the one way a typed message
is recorded. Sending happens after the commit, through AfterCommit.messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from builder.domain.errors import Invalid, Refused
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.models import Account, Contact, Message, MessageStatus, utcnow
from engine.actions.fields import time_zone
from engine.quiet_hours import inside_quiet_hours

MAX_SCHEDULE = timedelta(days=365)
# A time this little in the past is "now": the minute picked was current when the form was filled in.
PAST_GRACE = timedelta(minutes=2)


class OutsideQuietHours(Refused):
    """The contact's local time is outside the account's quiet hours and nobody confirmed."""

    status = 409
    code = "quiet_hours"


def check_can_text(contact: Contact) -> None:
    if not contact.phone:
        raise Invalid(f"{contact.name or 'This contact'} has no phone number; add one before sending.")
    if contact.dnd_sms:
        raise Invalid(f"{contact.name or 'This contact'} asked not to be texted (DND for SMS is on); nothing was sent.")


def send_time(when: datetime | None) -> datetime | None:
    """A requested send_at as naive UTC, like every stored time; None means now (so does a time just past).
    A time further in the past is refused: sending at once would surprise whoever picked it."""
    if when is None:
        return None
    try:
        when = when.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise Invalid.at({"send_at": ["That date is out of range."]}) from None
    now = utcnow()
    if when - now > MAX_SCHEDULE:
        raise Invalid.at({"send_at": ["Schedule messages at most a year ahead."]})
    if now - when > PAST_GRACE:
        raise Invalid.at({"send_at": ["That time has already passed; pick a time in the future, or send now."]})
    return when if when > now else None


def check_quiet_hours(contact: Contact, when: datetime | None, confirmed: bool, *, call: bool = False) -> None:
    """Refuse (OutsideQuietHours) to text (or call) `contact` at `when` (naive UTC; None: now) outside
    the account's quiet hours, unless the agent confirmed. Scheduling into the hours needs nothing."""
    if confirmed:
        return
    quiet = db.session.get(Account, contact.account_id).quiet_hours
    zone = time_zone(contact.timezone) or UTC
    local = (when or utcnow()).replace(tzinfo=UTC).astimezone(zone)
    if inside_quiet_hours(quiet, local.time().replace(tzinfo=None)):
        return
    name = contact.name or contact.phone or "this contact"
    zone_name = contact.timezone if time_zone(contact.timezone) else "UTC"
    verb = "call" if call else "text"
    moment = f"It is {local:%H:%M} for {name}" if when is None else \
        f"At the time picked it will be {local:%H:%M} ({local:%a %d %b}) for {name}"
    message = (f"{moment}; quiet hours allow texts and calls only {quiet['start']}-{quiet['end']} in their "
               f"time zone ({zone_name}). Confirm to {verb} them anyway.")
    raise OutsideQuietHours(message, details={"local_time": f"{local:%H:%M}", "time_zone": zone_name,
                                              "quiet_hours": quiet})


def record_text(contact: Contact, body: str, send_at: datetime | None, after: AfterCommit, **links: object) -> Message:
    """The outbound SMS row, in the caller's transaction; `after` sends (or schedules) it once committed.
    `links`: sent_by_id, and for a manual action its workflow, run and action ids, idempotency key, is_test."""
    links.setdefault("is_test", contact.is_test)
    message = Message(
        account_id=contact.account_id, contact_id=contact.id, direction="outbound", channel="sms",
        to_number=contact.phone, body=body, status=MessageStatus.QUEUED, send_at=send_at, **links,
    )
    db.session.add(message)
    db.session.flush()
    after.messages.append(message)
    if send_at is not None:
        after.scheduled.append((message.id, send_at))
    return message
