"""The unsubscribe page every email links to: a signed token per contact, GET asks to confirm, POST (the
page's button or a mail client's RFC 8058 one-click) turns email DND on, says so in the conversation once,
and stays idempotent; a token that is not ours, or a deleted contact's, opens nothing."""

from __future__ import annotations

from sqlalchemy import select

from builder.domain import email_unsubscribe, timeline
from builder.extensions import db
from builder.integrations import unsubscribe
from builder.models import Contact, Note
from tests.factories import make_contact


def token(app, contact_id: int) -> str:
    with app.test_request_context():
        return unsubscribe.token_for(contact_id)


def test_get_asks_to_confirm_and_changes_nothing(app, account):
    contact = make_contact(account, email="ann@example.com")
    page = app.test_client().get(f"/unsubscribe/{token(app, contact.id)}")
    assert page.status_code == 200 and "Unsubscribe from our emails?" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).dnd_email is False


def test_one_click_turns_email_dnd_on_and_the_conversation_shows_it_once(app, account):
    contact = make_contact(account, email="ann@example.com")
    client = app.test_client()
    path = f"/unsubscribe/{token(app, contact.id)}"
    for _ in range(2):  # mail clients may post more than once
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).dnd_email is True
    notes = db.session.scalars(select(Note.body).where(Note.contact_id == contact.id)).all()
    assert notes == [email_unsubscribe.NOTE]
    items, _ = timeline.timeline(db.session.get(Contact, contact.id), limit=10)
    assert [i["body"] for i in items if i["kind"] == "note"] == [email_unsubscribe.NOTE]
    assert "You are unsubscribed" in client.get(path).get_data(as_text=True)


def test_the_token_is_signed_and_one_per_contact(app, account):
    one, two = make_contact(account, email="a@example.com"), make_contact(account, email="b@example.com")
    assert token(app, one.id) != token(app, two.id)
    client = app.test_client()
    forged = token(app, one.id).replace(str(one.id), str(two.id), 1)
    for bad in (forged, str(two.id), "nonsense"):
        assert client.post(f"/unsubscribe/{bad}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Contact, two.id).dnd_email is False


def test_a_deleted_contacts_link_opens_nothing(app, account):
    contact = make_contact(account, email="ann@example.com")
    db.session.get(Contact, contact.id).deleted_at = contact.created_at
    db.session.commit()
    assert app.test_client().post(f"/unsubscribe/{token(app, contact.id)}").status_code == 404


def test_the_form_needs_no_csrf_token_and_no_login(app, account):
    app.config["WTF_CSRF_ENABLED"] = True
    contact = make_contact(account, email="ann@example.com")
    assert app.test_client().post(f"/unsubscribe/{token(app, contact.id)}").status_code == 200
