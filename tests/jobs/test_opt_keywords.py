"""Opt-out and opt-in keywords: Twilio's defaults, or the account's own lists."""

from __future__ import annotations

import pytest

import jobqueue.replies  # noqa: F401  (registers the reactions, as the worker does)
from builder.extensions import db
from builder.models import Account
from tests.engine.test_actions import fresh
from tests.factories import make_contact, run_jobs
from tests.jobs.test_replies import PHONE, outbound, reply

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
OPT_IN = ["START", "YES", "UNSTOP"]


def variants(word: str) -> list[str]:
    """As people type it: any case, with punctuation and spaces around."""
    return [word, word.lower(), word.title(), f" {word.lower()}! ", f"{word}."]


def set_keywords(account: Account, opt_out: list[str] | None, opt_in: list[str] | None) -> None:
    account = db.session.get(Account, account.id)
    account.opt_out_keywords, account.opt_in_keywords = opt_out, opt_in
    db.session.commit()


@pytest.mark.parametrize("body", [v for word in OPT_OUT for v in variants(word)])
def test_each_default_opt_out_word_turns_sms_dnd_on(app, account, body):
    contact = make_contact(account, phone=PHONE)
    reply(account, body)
    assert fresh(contact).dnd_sms is True


@pytest.mark.parametrize("body", [v for word in OPT_IN for v in variants(word)])
def test_each_default_opt_in_word_turns_sms_dnd_off(app, account, body):
    contact = make_contact(account, phone=PHONE, dnd_sms=True)
    reply(account, body)
    assert fresh(contact).dnd_sms is False


@pytest.mark.parametrize("body", ["stop it", "yes please", "revoked", "opt out", "STOP STOP"])
def test_only_a_whole_message_of_one_word_counts(app, account, body):
    contact = make_contact(account, phone=PHONE)
    reply(account, body)
    assert fresh(contact).dnd_sms is False
    contact = fresh(contact)
    contact.dnd_sms = True
    db.session.commit()
    reply(account, body)
    assert fresh(contact).dnd_sms is True


def test_a_custom_list_replaces_the_defaults(app, account):
    set_keywords(account, ["ARRET", "BASTA"], ["REPRENDRE"])
    contact = make_contact(account, phone=PHONE)
    reply(account, "STOP")
    assert fresh(contact).dnd_sms is False
    reply(account, "arret")
    assert fresh(contact).dnd_sms is True
    reply(account, "START")
    assert fresh(contact).dnd_sms is True
    reply(account, "Reprendre!")
    assert fresh(contact).dnd_sms is False
    reply(account, "basta")
    assert fresh(contact).dnd_sms is True


@pytest.mark.parametrize("removed", ["END", "CANCEL", "QUIT"])
def test_a_word_removed_from_the_list_no_longer_opts_out(app, account, removed):
    set_keywords(account, [w for w in OPT_OUT if w != removed], None)
    contact = make_contact(account, phone=PHONE)
    reply(account, removed.lower())
    assert fresh(contact).dnd_sms is False
    reply(account, "stop")
    assert fresh(contact).dnd_sms is True


def test_a_word_removed_from_the_opt_in_list_no_longer_opts_in(app, account):
    set_keywords(account, None, ["START", "YES"])
    contact = make_contact(account, phone=PHONE, dnd_sms=True)
    reply(account, "unstop")
    assert fresh(contact).dnd_sms is True
    reply(account, "yes")
    assert fresh(contact).dnd_sms is False


def test_the_help_reply_names_the_accounts_own_words(app, account):
    set_keywords(account, ["ARRET"], ["REPRENDRE"])
    make_contact(account, phone=PHONE)
    reply(account, "help")
    run_jobs(app)
    (message,) = outbound()
    assert "reply ARRET to unsubscribe, REPRENDRE to subscribe again" in message.body
