"""Keep secrets out of log lines.

An inbound-webhook URL (/hooks/workflows/<id>/<secret>) is its own credential, and so are API
tokens: anyone who reads the logs must not be able to post to a workflow or call the API. The
filter rewrites a record's message (and its traceback text) before any handler formats it.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

REDACTED = "<redacted>"
PATTERNS = [
    # the secret path segment of an inbound-webhook URL
    (re.compile(r"(/hooks/workflows/\d+/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    # ?token=... or &api_token=... in a logged URL
    (re.compile(r"((?:^|[?&;\s])[\w-]*token=)[^&;\s\"']+", re.IGNORECASE), rf"\1{REDACTED}"),
    # an Authorization header, or a bearer credential on its own
    (re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?[^\s,\"']+", re.IGNORECASE),
     rf"\1{REDACTED}"),
    (re.compile(r"\b(bearer\s+)[\w.~+/=-]+", re.IGNORECASE), rf"\1{REDACTED}"),
]
# Loggers whose own records carry request lines: a filter on a logger sees only the records made
# on it, so these are named one by one (and every root handler gets the filter too).
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "builder.api", "flask.app", "engineio.server",
           "socketio.server")


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is redacted too.
            record.exc_text = redact(self._traceback.formatException(record.exc_info))
        return True


def _add(target: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, RedactSecrets) for f in target.filters):
        target.addFilter(RedactSecrets())


def install(app: Flask) -> None:
    """Filter the app's own error logging, the access logs and every handler configured so far."""
    for name in LOGGERS:
        _add(logging.getLogger(name))
    _add(app.logger)
    for handler in [*logging.getLogger().handlers, *app.logger.handlers]:
        _add(handler)
