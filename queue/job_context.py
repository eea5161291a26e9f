"""The app a job runs in when no app context is active (workers run outside any request)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import wraps
from typing import Any

from flask import Flask, has_app_context

_app: Flask | None = None


def use_app(app: Flask) -> None:
    """Jobs run in this app: the worker's own, so they share its database and Redis pools."""
    global _app
    _app = app


def _context() -> AbstractContextManager[Any]:
    global _app
    if has_app_context():
        return nullcontext()
    if _app is None:
        # Here, not at the top: the app imports the web side, which enqueues jobs by name;
        # a process that runs a job outside any app builds it once.
        from app import create_app

        _app = create_app()
    return _app.app_context()


def job(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an RQ job function so that it runs inside an app context."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _context():
            return fn(*args, **kwargs)

    return wrapper
