"""Errors on pages (not the API) shown in the app's layout instead of the framework's bare HTML."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "That request could not be read",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That is not allowed here",
    413: "That upload is too large",
    429: "Too many tries",
    500: "Something went wrong",
    503: "flowdesk is briefly unavailable",
}
HINTS = {
    403: "Your role does not include this page. Ask an admin if you need it.",
    404: "The link may be old, or what it pointed to was deleted.",
    500: "It has been logged. Try again in a moment.",
    503: "Try again in a moment.",
}


def render_error_page(exc: HTTPException):
    status = exc.code or 500
    title = TITLES.get(status, exc.name)
    # A description we wrote ourselves says more than the generic hint; werkzeug's defaults do not.
    own = exc.description if exc.description and exc.description != type(exc).description else None
    response = render_template("error.html", status=status, title=title, message=own or HINTS.get(status, ""))
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    return response, status, headers
