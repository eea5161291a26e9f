"""Paging and after-commit helpers shared by the API modules (field types: builder.schemas.fields)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Select, func, select

from builder.extensions import db

log = logging.getLogger(__name__)


















def paginate(query: Select, args: dict[str, Any]) -> dict[str, Any]:
    """One page of `query` (already ordered) and the total count of its rows."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}
