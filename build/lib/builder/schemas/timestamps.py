"""The timestamp field every shape uses: stored times are naive UTC, sent with an explicit +00:00."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields


class DateTime(fields.DateTime):
    """A timestamp that always carries its UTC offset (the database stores naive UTC)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)
