"""The workflows API: one blueprint (common.bp), its routes split by concern."""

from builder.api.workflows import (  # noqa: F401  (each adds routes to bp)
    catalog,
    editing,
    hooks,
    removal,
    retries,
    runs,
    templates,
    transfer,
    versions,
)
from builder.api.workflows.common import bp

__all__ = ["bp"]
