"""People: creating a user (the CLI, the demo data and the tests all use this one path)."""

from __future__ import annotations

from sqlalchemy import select

from builder.extensions import db
from builder.models import Account, User


def default_account() -> Account:
    account = db.session.scalar(select(Account).order_by(Account.id).limit(1))
    if account is None:
        account = Account(name="flowdesk")
        db.session.add(account)
        db.session.flush()
    return account


def create_user(email: str, role: str, password: str, name: str = "", account: Account | None = None) -> User:
    account = account or default_account()
    user = User(account_id=account.id, email=email.strip().lower(), role=role, name=name or email.split("@")[0])
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user

