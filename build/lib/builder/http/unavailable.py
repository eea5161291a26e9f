"""A request that needs Redis before it can commit (rate limits, round-robin counters, ...)
answers 503 while Redis is unreachable: nothing was committed, so the client may simply retry.

Work that needs Redis only after its commit never gets here: jobqueue.effects defers it to the
reconciler and the request answers its success status.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request

from builder.extensions import db
from jobqueue.connection import REDIS_DOWN

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
MESSAGE = "The service is briefly unavailable; nothing was saved. Please try again in a few seconds."


def redis_unavailable(exc: Exception) -> tuple[Response, int, dict[str, str]] | Response:
    db.session.rollback()  # whatever the request had written is not kept
    log.warning("Redis is unreachable during %s %s (%s); answered 503", request.method, request.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        body = jsonify({"error": {"code": "service_unavailable", "message": MESSAGE}})
        return body, 503, headers
    return Response(f"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1><p>{MESSAGE}</p>",
                    503, headers, mimetype="text/html")


def register(app: Flask) -> None:
    # More specific than the API's catch-all Exception handler, so Flask picks this one.
    for error in REDIS_DOWN:
        app.register_error_handler(error, redis_unavailable)
