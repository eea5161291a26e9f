"""The login and logout pages (the rules of who is asking are in builder.http.auth)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from builder.extensions import login_manager
from builder.http import throttle
from builder.http.auth import end_session, find_user, start_session

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never bounce a fresh login to another host.
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = find_user(form.email.data, form.password.data)
        except throttle.TooManyAttempts as exc:
            flash(f"Too many failed attempts. Try again in {_minutes(exc.retry_after)}.", "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        if user is not None:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an active user.", "error")
        status = 401
    return render_template("auth/login.html", form=form), status


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@bp.post("/logout")
@login_required
def logout():
    end_session()
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return render_template("error.html", message="Your form expired; reload the page and try again."), 400

