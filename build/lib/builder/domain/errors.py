"""What a rule refuses, said once: the API and the hooks turn these into their JSON error shape."""

from __future__ import annotations


class Refused(Exception):
    """A request the rules refuse; `status` is the HTTP status it answers with."""

    status = 400
    code: str | None = None  # the error code clients see; None: the one for the status

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, *,
                 details: dict[str, object] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.details = details or {}  # more keys for the error body, e.g. the contact's local time


class Invalid(Refused):
    """Bad input: `fields` maps "path.to.field" to messages."""

    status = 422

    @classmethod
    def at(cls, fields: dict[str, list[str]]) -> Invalid:
        """Named after the first field, as every 422 of ours reads."""
        path, messages = next(iter(fields.items()))
        return cls(f"{path}: {messages[0]}", fields)


class NotFound(Refused):
    status = 404


class Conflict(Refused):
    status = 409
