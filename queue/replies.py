"""What an inbound SMS does: consent keywords, waits for a reply, stop on response, reply enrollment.

All of it runs in the transaction that records the message (see jobqueue.inbound),
so a reply is acted on exactly once or, if the job dies, not at all and again.

- Keywords, when the whole message is one (any case, punctuation ignored): the
  account's opt-out words (by default Twilio's: STOP, STOPALL, UNSUBSCRIBE, CANCEL,
  END, QUIT, REVOKE, OPTOUT) turn SMS do-not-disturb on; its opt-in words (START,
  YES, UNSTOP) turn it off; HELP and INFO get an automatic reply.
- Runs of workflows set to "stop on response" end; their queued manual actions
  leave the queue.
- Runs that can reach a "customer replied" Goal Event jump to it, and runs at a Wait for
  the event "replied" take its Event happened exit (builder.domain.goal_events).
- Every other run of the contact waiting at a Wait for Customer Reply step takes
  its Replied exit, whatever message went out last, automated or manual, and is
  left ready for the ready-runs pass (jobqueue.ready) to move on.
- Published "customer replied" workflows enroll the contact (not on an opt-out:
  someone who just said STOP is not started on new automation).
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select, update

from builder.domain import enrollment, goal_events
from builder.domain.store import AfterCommit, SqlStore
from builder.extensions import db
from builder.models import (
    Account,
    Contact,
    Enrollment,
    ManualAction,
    ManualActionStatus,
    Message,
    MessageStatus,
    utcnow,
)
from engine import goals, interpreter
from engine.actions.wait_for_reply import REPLY
from engine.statuses import OPEN_VALUES, RunStatus
from engine.triggers import CUSTOMER_REPLIED, Event
from jobqueue.inbound import InboundSms, before_commit, reaction, transaction_state
from jobqueue.runner import graphs_for, rotation_counter

log = logging.getLogger(__name__)

HELP = frozenset({"help", "info"})
OPEN = OPEN_VALUES


def keyword(body: str) -> str | None:
    """The message as a keyword: its only word, folded ("Stop!" -> "stop"), or None."""
    words = re.findall(r"\w+", body.casefold())
    return words[0] if len(words) == 1 else None


def help_text(account: Account) -> str:
    stop, start = account.opt_out_words[0], account.opt_in_words[0] if account.opt_in_words else None
    again = f", {start} to subscribe again" if start else ""
    return f"{account.name}: reply {stop} to unsubscribe{again}. Msg & data rates may apply."


def _words(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.casefold() for w in words)  # folded as keyword() folds the message


@reaction
def react(sms: InboundSms, after: AfterCommit) -> None:
    contact = db.session.get(Contact, sms.contact_id)
    account = _account(sms.account_id)
    opt_out, opt_in = _words(account.opt_out_words), _words(account.opt_in_words)
    word = keyword(sms.body)
    if word in opt_out:
        contact.dnd_sms, contact.updated_at = True, utcnow()
        after.contacts.append(contact.id)
        log.info("contact %s texted %s: SMS do-not-disturb on; later sends are refused", contact.id, word.upper())
    elif word in opt_in:
        contact.dnd_sms, contact.updated_at = False, utcnow()
        after.contacts.append(contact.id)
        log.info("contact %s texted %s: SMS do-not-disturb off", contact.id, word.upper())
    elif word in HELP:
        _help_reply(sms, contact, after)
    # Runs that stop on a response end first: a stopped run does not take its Replied exit.
    runs = _open_runs(sms, OPEN)
    _stop_on_response(sms, runs, after)
    # Goals a reply meets come before Wait for Reply: a run that can reach its goal jumps there.
    goal_events.meet(db.session, sms.account_id, contact, [goals.Event(goals.REPLIED)], after)
    _resolve_waits(sms, [run for run in runs if run.status == RunStatus.WAITING], after)
    if word not in opt_out:
        started = enrollment.enroll(db.session, sms.account_id,
                                  [Event(CUSTOMER_REPLIED, contact.id, f"reply:{sms.message_id}", text=sms.body)])
        after.started.extend(started)  # they run once this commits; the reconciler covers a lost enqueue


def _help_reply(sms: InboundSms, contact: Contact, after: AfterCommit) -> None:
    message = Message(
        account_id=sms.account_id, contact_id=contact.id, direction="outbound", channel="sms",
        to_number=sms.from_number, body=help_text(_account(sms.account_id)), status=MessageStatus.QUEUED,
        idempotency_key=f"help:{sms.message_id}",
    )
    db.session.add(message)
    db.session.flush()
    after.messages.append(message)


def _open_runs(sms: InboundSms, statuses: tuple[str, ...]) -> list[Enrollment]:
    return list(db.session.scalars(
        select(Enrollment).where(Enrollment.contact_id == sms.contact_id, Enrollment.status.in_(statuses))
        .order_by(Enrollment.id).with_for_update(of=Enrollment)
    ))


def _resolve_waits(sms: InboundSms, runs: list[Enrollment], after: AfterCommit) -> None:
    """Waiting runs take their Replied exit here, in the transaction that records the reply, and
    are left ready: the ready-runs pass moves them on with every other run a burst made ready.
    Their step logs and counters are saved once for the whole transaction (_save_resumed)."""
    if not runs:
        return
    graphs = graphs_for({r.version_id for r in runs})
    store = _transaction_store(sms.account_id)
    contact = db.session.get(Contact, sms.contact_id)
    now = utcnow()
    for run in runs:
        graph = graphs[run.version_id]
        step = graph.steps.get(run.current_step or "")
        if step is None or step.type != "wait_for_reply":
            continue
        interpreter.resume(run, graph, contact, store, now, seq=run.seq, event=REPLY, then_advance=False)
        store.note_pause(run)
        if run.status == RunStatus.ACTIVE:
            after.started.append(run.id)


def _account(account_id: int) -> Account:
    """Read once per transaction (its keywords), however many replies it records."""
    accounts = transaction_state().setdefault("accounts", {})
    if account_id not in accounts:
        accounts[account_id] = db.session.get(Account, account_id)
    return accounts[account_id]


def _transaction_store(account_id: int) -> SqlStore:
    stores = transaction_state().setdefault("stores", {})
    if account_id not in stores:
        stores[account_id] = SqlStore(db.session, account_id, rotation_counter)
    return stores[account_id]


@before_commit
def _save_resumed(after: AfterCommit) -> None:
    for store in transaction_state().get("stores", {}).values():
        store.flush_batched()
        after.extend(store.after_commit)


def _stop_on_response(sms: InboundSms, runs: list[Enrollment], after: AfterCommit) -> None:
    graphs = graphs_for({r.version_id for r in runs})
    stopping = [r for r in runs if graphs[r.version_id].settings.get("stop_on_response")]
    if not stopping:
        return
    store = SqlStore(db.session, sms.account_id, rotation_counter)
    now = utcnow()
    for run in stopping:
        interpreter.cancel(run, store, now, "the contact replied (the workflow stops on response)")
        run.updated_at = now
    store.flush_batched()
    after.extend(store.after_commit)
    queued = list(db.session.scalars(select(ManualAction).where(
        ManualAction.enrollment_id.in_([r.id for r in stopping]), ManualAction.status == ManualActionStatus.QUEUED)))
    if queued:
        db.session.execute(update(ManualAction).where(ManualAction.id.in_([a.id for a in queued])).values(
            status="deleted", deleted_at=now, updated_at=now))
        after.removed_actions.extend(queued)
