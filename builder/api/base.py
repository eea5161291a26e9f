"""What every API blueprint shares: the blueprint factory, `fail`, and the JSON error shape.

Every blueprint authenticates in before_request (the token endpoint excepted),
and every error, ours or the framework's, leaves as
{"error": {"code", "message", "fields"?}}.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import Request, current_app, jsonify, request
from flask_smorest import Blueprint as ApiBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, InternalServerError

from builder.domain.errors import Refused
from builder.extensions import db
from builder.http.auth import authenticate_api
from builder.http.input_limits import JsonTooDeep, loads_body
from engine.graph import flatten

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


class ArgumentsParser(FlaskParser):
    """webargs parses JSON bodies itself; this makes it refuse deep nesting like request.get_json()."""

    def _raw_load_json(self, req: Request):
        if not is_json_request(req):
            return core.missing
        return loads_body(req.get_data(cache=True))


class Blueprint(ApiBlueprint):
    ARGUMENTS_PARSER = ArgumentsParser()


def blueprint(name: str, url_prefix: str, *, public: bool = False, **kwargs) -> ApiBlueprint:
    bp = Blueprint(name, __name__, url_prefix=f"/api{url_prefix}", **kwargs)
    if not public:
        bp.before_request(lambda: authenticate_api() and None)
    return bp


def fail(status: int, message: str, fields: dict[str, list[str]] | None = None) -> NoReturn:
    """Abort with our JSON error shape; `fields` maps "path.to.field" to messages."""
    exc = HTTPException(description=message)
    exc.code = status
    exc.data = {"fields": fields} if fields else {}
    raise exc


def error_body(status: int, message: str, fields: dict | None = None):
    body = {"error": {"code": CODES.get(status, "error"), "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def _flatten_webargs(messages: dict) -> dict[str, list[str]]:
    # webargs nests by location ("json", "query"); callers care about the field.
    merged: dict = {}
    for location_errors in messages.values():
        merged.update(location_errors if isinstance(location_errors, dict) else {"_schema": location_errors})
    return flatten(merged)


def _speaks_json() -> bool:
    # The API and the inbound-webhook trigger answer machines: their errors are JSON too.
    return request.path.startswith(("/api/", "/hooks/"))


def _body_is_bad_json() -> bool:
    try:
        return request.is_json and request.get_json(silent=True) is None
    except JsonTooDeep:
        return True


PAGE_ERRORS = "flowdesk.page_errors"  # app.extensions key: how the pages show an error (set by the wiring)


def _page_error(exc: HTTPException):
    render = current_app.extensions.get(PAGE_ERRORS)
    return render(exc) if render else exc


def handle_http_error(exc: HTTPException):
    if not _speaks_json():
        return _page_error(exc)
    response, status = _error_response(exc)
    # Keep what the exception says beyond its body: Allow on a 405, Retry-After on a 429, ...
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def _error_response(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    if status == 422 and "messages" in data:
        fields = _flatten_webargs(data["messages"])
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        return error_body(422, f"{first[0]}: {first[1][0]}" if first[0] else first[1][0], fields)
    if "fields" in data:
        return error_body(status, exc.description or "", data["fields"])
    if isinstance(exc, JsonTooDeep):
        return error_body(400, exc.description)
    if status == 400 and _body_is_bad_json():
        return error_body(400, "The request body is not valid JSON.")
    return error_body(status, exc.description or CODES.get(status, "error"))


def handle_refused(exc: Refused):
    """A rule of builder.domain said no: the same JSON shape as every other error."""
    response, status = error_body(exc.status, exc.message, exc.fields)
    if exc.code or exc.details:
        body = response.get_json()
        body["error"].update(exc.details)
        body["error"]["code"] = exc.code or body["error"]["code"]
        response = jsonify(body)
    return response, status


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    # The failed statement may have left the session unusable; the error page may still query.
    db.session.rollback()
    if not _speaks_json():
        return _page_error(InternalServerError())
    return error_body(500, "Something went wrong on our side; it has been logged.")
