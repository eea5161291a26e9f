"""Live events: manual-action changes and pending counts, pushed over Socket.IO.

Rooms: every connection joins `user:<id>` (see builder.live.sockets). Who hears an
event is decided when it is published, from the database as it is then: the
action's assignee and the account's active admins and managers, each in their own
room. An agent therefore hears only about actions assigned to them, a manager
about every action of the account, and a role change or a deactivation takes
effect on the next event, whichever process publishes it.

Events (payloads as in the REST API):
- `manual_action.created` / `.updated` / `.deleted`: one list row
  (builder.schemas.manual_actions.ManualActionSchema).
- `manual_actions.counts`: {pending_total, pending_calls, pending_sms} as the
  receiver sees them, plus `by_assignee` for admins and managers (the dashboard's shape).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from builder.domain.access import active_ids, staff_ids
from builder.domain.counts import account_counts, manual_action_counts
from builder.extensions import db
from builder.live.emit import Emit, publish_safely, user_room
from builder.models import ManualAction, User
from builder.schemas.manual_actions import ManualActionSchema

log = logging.getLogger(__name__)

EVENTS = ("created", "updated", "deleted")
COUNTS_EVENT = "manual_actions.counts"


def publish_action(action: ManualAction, event: str, previous_assignee_id: int | None = None) -> None:
    """Tell everyone who may see `action` that it was created, updated or deleted; then refresh their counts.

    Call it after the change is committed, e.g. from the API:
    - completing an action: `publish_action(action, "updated")`;
    - deleting one: `publish_action(action, "deleted")`;
    - claiming or changing it (Let's Start): `publish_action(action, "updated")`; if the assignee changed, pass
      `previous_assignee_id`: the previous assignee gets `manual_action.deleted`, as it left their queue.
    Rows are read afresh from the database, so the event carries the committed state.
    """
    publish_actions([action], event, previous_assignees={_id(action): previous_assignee_id})


def publish_actions(
    actions: Iterable[ManualAction | int], event: str, *, previous_assignees: dict[int, int | None] | None = None
) -> None:
    """publish_action for many actions at once: one query for the rows, one counts refresh per account."""
    publish_action_ids([_id(a) for a in actions], event, previous_assignees=previous_assignees)


def publish_action_ids(
    ids: list[int], event: str, *, previous_assignees: dict[int, int | None] | None = None
) -> None:
    """publish_actions, given the actions' ids."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
    if not ids:
        return
    # Rows first, counts after, each from its own short read: the row is what lists wait for, and the
    # counts queries (a few ms on a big queue) no longer stand between the commit and the row's delivery.
    affected: dict[int, set[int | None]] = {}
    publish_safely(lambda: _row_messages(ids, event, previous_assignees or {}, affected))
    if affected:
        publish_safely(lambda: [m for account_id, users in affected.items()
                                for m in _counts_messages(account_id, users)])


def publish_counts(account_id: int, user_ids: Iterable[int | None] = ()) -> None:
    """Send `manual_actions.counts`: the manager view to the account's admins and managers, each agent's own
    to them (admins and managers among `user_ids` already get the manager view)."""
    publish_safely(lambda: _counts_messages(account_id, set(user_ids)))


def _id(action: ManualAction | int) -> int:
    if isinstance(action, int):
        return action
    # The identity survives a commit's expiry; reading action.id could cost a query per action.
    identity = inspect(action).identity
    return identity[0] if identity else action.id


def _row_messages(
    ids: list[int], event: str, previous_assignees: dict[int, int | None], affected: dict[int, set[int | None]]
) -> list[Emit]:
    """The row events for `ids`; fills `affected` (account id -> users whose counts changed)."""
    rows = db.session.scalars(
        select(ManualAction).where(ManualAction.id.in_(ids))
        .options(joinedload(ManualAction.contact), joinedload(ManualAction.workflow),
                 joinedload(ManualAction.assignee))
        .execution_options(populate_existing=True)
    ).unique().all()
    schema = ManualActionSchema()
    staff = staff_ids(action.account_id for action in rows)
    people = {account_id: active_ids(account_id, [a.assignee_id for a in rows if a.account_id == account_id]
                                     + [previous_assignees.get(a.id) for a in rows if a.account_id == account_id])
              for account_id in staff}
    messages: list[Emit] = []
    for action in rows:
        data = schema.dump(action)
        managers = staff[action.account_id]
        rooms = [user_room(user_id) for user_id in managers]
        if action.assignee_id in people[action.account_id] and action.assignee_id not in managers:
            rooms.append(user_room(action.assignee_id))
        messages.append((f"manual_action.{event}", data, rooms))  # a list of rooms reaches each client once
        users = affected.setdefault(action.account_id, set())
        users.add(action.assignee_id)
        previous = previous_assignees.get(action.id)
        if previous is not None and previous != action.assignee_id:
            users.add(previous)
            # A manager still sees it in their list; an agent's queue lost it.
            if previous in people[action.account_id] and previous not in managers:
                messages.append(("manual_action.deleted", data, user_room(previous)))
    return messages


def _counts_messages(account_id: int, user_ids: set[int | None]) -> list[Emit]:
    managers = staff_ids([account_id])[account_id]
    messages: list[Emit] = [(COUNTS_EVENT, account_counts(account_id), [user_room(u) for u in managers])]
    for user_id in sorted(active_ids(account_id, user_ids) - set(managers)):
        user = db.session.get(User, user_id)
        if user is not None and not user.can_see_all:
            messages.append((COUNTS_EVENT, manual_action_counts(user), user_room(user_id)))
    return messages


