"""The public unsubscribe page every email links to (no login: the signed token in the URL is the key).

GET shows a confirmation with one button; POST turns email do-not-disturb on. A POST carrying
`List-Unsubscribe=One-Click` is what mail clients send for RFC 8058 one-click unsubscribes; both forms do
the same and either may come more than once. The blueprint is exempt from CSRF: a cross-site POST could
only do what the token's holder may do anyway, and mail clients post without a form token.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from sqlalchemy import select

from builder.domain import email_unsubscribe
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.integrations import unsubscribe
from builder.models import Contact
from jobqueue.effects import carry_out_committed

bp = Blueprint("unsubscribe_pages", __name__)
log = logging.getLogger(__name__)


def _contact(token: str) -> Contact | None:
    contact_id = unsubscribe.contact_id_for(token)
    return email_unsubscribe.find(contact_id) if contact_id is not None else None


@bp.get(unsubscribe.PATH + "<token>")
def confirm(token: str):
    contact = _contact(token)
    if contact is None:
        return render_template("unsubscribe/invalid.html"), 404
    done = bool(db.session.scalar(select(Contact.dnd_email).where(Contact.id == contact.id)))
    return render_template("unsubscribe/confirm.html", done=done)


@bp.post(unsubscribe.PATH + "<token>")
def unsubscribe_contact(token: str):
    contact = _contact(token)
    if contact is None:
        return render_template("unsubscribe/invalid.html"), 404
    after = AfterCommit()
    if email_unsubscribe.unsubscribe(contact, after):
        log.info("contact %s unsubscribed from email", contact.id)
    db.session.commit()
    carry_out_committed(after)
    return render_template("unsubscribe/confirm.html", done=True)
