"""Constraints the database itself enforces."""

import pytest
from sqlalchemy.exc import IntegrityError

from builder.extensions import db
from builder.models import ApiToken, Enrollment, User
from tests.factories import make_contact, make_workflow

GRAPH = {"name": "n", "start": "a", "steps": {"a": {"type": "add_note", "config": {"body": "x"}}}}


def _run(wf, contact, key, status="active", is_test=False) -> Enrollment:
    return Enrollment(account_id=wf.account_id, workflow_id=wf.id, version_id=wf.published_version_id,
                      contact_id=contact.id, status=status, current_step="a", source_key=key, is_test=is_test)


def test_a_contact_has_one_open_run_per_workflow(app, account):
    wf = make_workflow(account, GRAPH)
    contact = make_contact(account)
    db.session.add(_run(wf, contact, "first"))
    db.session.commit()
    db.session.add(_run(wf, contact, "second", status="parked"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Finished runs and test runs do not count.
    db.session.add_all([_run(wf, contact, "done", status="completed"), _run(wf, contact, "t1", is_test=True),
                        _run(wf, contact, "t2", is_test=True)])
    db.session.commit()


def test_passwords_and_tokens_are_stored_hashed(app, users):
    user = db.session.get(User, users["agent"].id)
    assert "correct-horse" not in user.password_hash and user.check_password("correct-horse")
    token, secret = ApiToken.issue(user)
    assert secret not in token.token_hash and token.token_hash == ApiToken.hash(secret)
