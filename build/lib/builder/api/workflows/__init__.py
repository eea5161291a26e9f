"""The workflows API: one blueprint (common.bp), its routes split by concern."""

from builder.api.workflows import catalog, editing, removal, runs, versions  # noqa: F401  (each adds routes to bp)
from builder.api.workflows.common import bp

__all__ = ["bp"]
