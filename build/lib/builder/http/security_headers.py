"""Browser security headers on every response: a strict Content-Security-Policy and friends.

The pages load only their own scripts, styles and the locally served Socket.IO
client, so the policy allows nothing but this origin: no inline script or style
attribute, no framing, no plugins, forms and <base> only to ourselves.
`connect-src 'self'` covers the same-origin WebSocket of Socket.IO.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        # setdefault: a view that needs a different value for one response keeps it.
        response.headers.setdefault(name, value)
    return response


def register(app: Flask) -> None:
    app.after_request(_add_headers)
