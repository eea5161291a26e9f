"""Flask CLI commands: worker, users (create, deactivate, activate, set-password), demo."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from builder.domain.phones import normalize_phone
from builder.domain.users import create_user
from builder.extensions import db
from builder.http.auth import end_all_sessions
from builder.models import Role, User
from builder.server import demo as demo_data
from jobqueue.worker import run


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking per job.")
    @click.option("--no-scheduler", is_flag=True, help="Do not run RQ's scheduler (timers) in this worker.")
    def worker(burst: bool, simple: bool, no_scheduler: bool) -> None:
        """Run an RQ worker (with the scheduler for waits) and the reconciler."""
        run(current_app._get_current_object(), burst=burst, simple=simple, scheduler=not no_scheduler)

    users = click.Group("users", help="Manage users.")
    app.cli.add_command(users)

    @users.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--name", default="")
    @click.option("--phone", default="", help="The phone Manual Call rings first (with Twilio).")
    def users_create(email: str, role: str, password: str, name: str, phone: str) -> None:
        """Create a user in the default account."""
        if db.session.scalar(select(User).where(User.email == email.strip().lower())):
            raise click.ClickException(f"A user with the email {email} already exists.")
        if len(password) < 8:
            raise click.ClickException("Use a password of at least 8 characters.")
        try:
            e164 = normalize_phone(phone, current_app.config["DEFAULT_PHONE_REGION"]) if phone.strip() else None
        except ValueError as exc:
            raise click.ClickException(f"--phone: {exc}") from exc
        user = create_user(email, role, password, name)
        if e164:
            user.phone = e164
            db.session.commit()
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")

    def find_by_email(email: str) -> User:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"No user has the email {email}.")
        return user

    @users.command("deactivate")
    @click.argument("email")
    def users_deactivate(email: str) -> None:
        """Deactivate a user: their browser sessions end and their API tokens are deleted at once."""
        user = find_by_email(email)
        user.active = False
        end_all_sessions(user)
        db.session.commit()
        click.echo(f"Deactivated {user.email}; their sessions and API tokens are ended.")

    @users.command("activate")
    @click.argument("email")
    def users_activate(email: str) -> None:
        """Let a deactivated user log in again."""
        user = find_by_email(email)
        user.active = True
        db.session.commit()
        click.echo(f"Activated {user.email}.")

    @users.command("set-password")
    @click.argument("email")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def users_set_password(email: str, password: str) -> None:
        """Set a user's password: their browser sessions end and their API tokens are deleted."""
        user = find_by_email(email)
        if len(password) < 8:
            raise click.ClickException("Use a password of at least 8 characters.")
        user.set_password(password)
        end_all_sessions(user)
        db.session.commit()
        click.echo(f"Set the password of {user.email}; their sessions and API tokens are ended.")

    @app.cli.command("demo")
    def demo() -> None:
        """Load demo users, contacts and a running workflow (once; safe to repeat)."""
        click.echo(demo_data.load())
