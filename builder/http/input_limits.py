"""Limits on what a request may carry, in one place for the whole app.

- JSON bodies nested deeper than MAX_JSON_DEPTH are a 400 (`JsonTooDeep`) before they are parsed:
  Python's parser, marshmallow and the JSON column all recurse, and a body of `{"a":` 5,000 times
  would otherwise end in a RecursionError (a 500). Nothing legitimate comes close (a workflow graph
  is about 10 levels deep).
- `<int:...>` in any route refuses numbers above MAX_ID, so a huge id is a 404 rather than an
  OverflowError in the database driver (SQLite takes 64 bits at most; our ids are 32-bit).
- Text may not hold the NUL character (U+0000), in a JSON body, a form or the query string: a 422
  naming the field (`TextHasNul`). PostgreSQL's text columns cannot store it, so it would otherwise
  be a 500 there and silently kept on SQLite; no one types it, so nothing is stripped quietly.
- The request body size is capped by MAX_CONTENT_LENGTH (builder.config), also for chunked bodies:
  werkzeug stops reading a chunked body quietly at the limit, so a longer one would be cut short and
  then parsed; `Request.stream` makes that a 413 instead. A view marked `@larger_body(...)` takes
  more; the mark is read by the first hook, before anything (the NUL check's form) reads the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any, TypeVar

import flask
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnprocessableEntity
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from builder.models import MAX_ID

MAX_JSON_DEPTH = 100

View = TypeVar("View", bound=Callable[..., Any])

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string literal (brackets inside do not count)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonTooDeep(BadRequest):
    """Deliberately not a ValueError: `get_json(silent=True)` must not turn it into "no body"."""

    description = (f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and "
                   "arrays are accepted.")


class TextHasNul(UnprocessableEntity):
    """Text with a NUL character; `data["fields"]` names where (our usual 422 shape)."""

    def __init__(self, where: str) -> None:
        where = where.replace("\x00", "")  # the path names a key that held it: echo it without
        message = "Text cannot contain the NUL character (\\u0000)."
        super().__init__(f"{where}: {message}" if where else message)
        self.data = {"fields": {where or "_body": [message]}}


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in a parsed JSON value holding a NUL, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return where
        found = nul_path(item, where)
        if found is not None:
            return found
    return None


def larger_body(config_key: str, default: int) -> Callable[[View], View]:
    """Let one view take bodies up to `app.config[config_key]` (else `default`) bytes. Put it right
    under the route decorator: the registered function carries the mark."""

    def mark(view: View) -> View:
        view.body_limit = (config_key, default)  # type: ignore[attr-defined]
        return view

    return mark


def apply_body_limit() -> None:
    """before_request, first of all: a marked view's larger limit, set before the body is read."""
    view = flask.current_app.view_functions.get(flask.request.endpoint or "")
    marked = getattr(view, "body_limit", None)
    if marked is not None:
        config_key, default = marked
        flask.request.max_content_length = int(flask.current_app.config.get(config_key, default))


def refuse_nul_in_fields() -> None:
    """before_request: the query string's and a posted form's values may not hold a NUL either."""
    for source in (flask.request.args, flask.request.form):
        for key, value in source.items(multi=True):
            if "\x00" in (key or "") or "\x00" in (value or ""):  # a part without a name has key None
                raise TextHasNul(key or "")


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # the usual case, without scanning
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads_json(data: str | bytes, **kwargs: Any) -> Any:
    """json.loads, refusing deep nesting with JsonTooDeep. Undecodable bytes are a JSONDecodeError."""
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")  # a BOM stays and is refused, as webargs always did
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Bytes decoding error: {exc.reason}", str(exc.object), exc.start) from exc
    else:
        text = data
    if json_depth(text) > MAX_JSON_DEPTH:
        raise JsonTooDeep()
    try:
        return json.loads(text, **kwargs)
    except RecursionError:  # a deep stack already in use; still the body's fault
        raise JsonTooDeep() from None


def refuse_nul(value: Any, raw: str | bytes) -> None:
    """TextHasNul if the parsed body `value` holds a NUL; `raw` is its text, searched first (cheap):
    in JSON a NUL can only arrive escaped."""
    if ("\\u0000" if isinstance(raw, str) else b"\\u0000") in raw:
        where = nul_path(value)
        if where is not None:
            raise TextHasNul(where)


def loads_body(data: str | bytes) -> Any:
    """loads_json for what a request sends: NUL characters are refused as well."""
    value = loads_json(data)
    refuse_nul(value, data)
    return value


class JsonProvider(DefaultJSONProvider):
    """The app's JSON: request.get_json() goes through loads_json."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_json(s, **kwargs)


class IdConverter(IntegerConverter):
    """`<int:...>` that matches no number above MAX_ID (so the route is a plain 404)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class CappedStream(LimitedStream):
    """A body without Content-Length, read up to max_content_length: one byte more is a 413."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class Request(flask.Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        value = super().get_json(force=force, silent=silent, cache=cache)
        if value is not None:
            refuse_nul(value, self.get_data(cache=True))
        return value

    @cached_property
    def stream(self) -> Any:
        limit = self.max_content_length
        if (limit is not None and not self.shallow and self.content_length is None
                and "wsgi.input_terminated" in self.environ):
            return CappedStream(self.environ["wsgi.input"], limit, is_max=True)
        return super().stream


def install(app: Flask) -> None:
    """Call before any blueprint is registered: rules pick their converter when they are added."""
    app.request_class = Request
    app.json = JsonProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(apply_body_limit)
    app.before_request(refuse_nul_in_fields)
