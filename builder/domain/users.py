"""People: creating a user (the CLI, the demo data and the tests all use this one path), and a user's
own password. What admins do to the team is in builder.domain.team."""

from __future__ import annotations

from sqlalchemy import delete, select

from builder.domain.errors import Invalid
from builder.extensions import db
from builder.models import Account, User, UserSession


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



def change_password(user: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """Set the user's own password, if `current` is it; their other browser sessions end (the one whose
    id hash is `keep_session` stays). API tokens are separate credentials and keep working."""
    if not user.check_password(current):
        raise Invalid.at({"current_password": ["That is not your current password."]})
    user.set_password(new)
    others = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session:
        others = others.where(UserSession.id_hash != keep_session)
    db.session.execute(others)
