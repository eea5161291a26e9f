"""The inbound-webhook trigger's URL: each workflow's own secret, rotating it, and capturing a sample request.

The URL is /hooks/workflows/<id>/<secret>. The secret is a random value stored on the workflow
(`Workflow.hook_secret`), compared in constant time; rotating it refuses the old URL at once and
leaves every other workflow's alone. Before migration 0017 the secret was an HMAC of the id under
SECRET_KEY: a workflow the migration gave its first secret (hook_rotated_at NULL) accepts that old
URL too until it is rotated, so integrations set up before keep working.

"Wait for a sample request" arms a capture for a few minutes: the next JSON object posted to the
URL (even while the workflow is a draft, when it is only captured) is kept on the workflow for the
builder, which shows its fields as dotted paths to map to contact fields.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from builder.domain.enrollment import VERSION_KEY, graph_of
from builder.models import Workflow, WorkflowVersion, new_hook_secret, utcnow

PATH_PREFIX = "/hooks/workflows"
LISTEN_MINUTES = 10  # how long "wait for a sample request" waits by default
LISTEN_MINUTES_MAX = 60
MAX_FIELDS = 200  # paths listed from one sample; a bigger payload is cut here (it is for picking, not storing)


def hook_path(workflow_id: int, secret: str) -> str:
    return f"{PATH_PREFIX}/{workflow_id}/{secret}"


def legacy_secret(secret_key: str, workflow_id: int) -> str:
    """The secret of the URLs from before per-workflow secrets: an HMAC of the id under SECRET_KEY."""
    return hmac.new(secret_key.encode(), f"workflow-hook:{workflow_id}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class HookTarget:
    """What a hook request needs to know about its workflow before reading the body."""

    account_id: int
    secret: str
    rotated_at: datetime | None
    listen_until: datetime | None
    version_key: tuple  # the published version as enrollment.VERSION_KEY reads it (all None if unpublished)

    def accepts(self, given: str, workflow_id: int, secret_key: str) -> bool:
        ok = hmac.compare_digest(given.encode(), self.secret.encode())
        if self.rotated_at is None:  # never rotated since the upgrade: the old URL still works
            ok = hmac.compare_digest(given.encode(), legacy_secret(secret_key, workflow_id).encode()) or ok
        return ok

    def listening(self, now: datetime | None = None) -> bool:
        return self.listen_until is not None and self.listen_until > (now or utcnow())


# One query per hook request: the secret and the published version's key (its graph comes from the cache).
_TARGET = (select(Workflow.account_id, Workflow.hook_secret, Workflow.hook_rotated_at, Workflow.hook_listen_until,
                  *VERSION_KEY)
           .outerjoin(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
           .where(Workflow.id == bindparam("workflow_id")))


def find_target(session: Session, workflow_id: int) -> HookTarget | None:
    row = session.execute(_TARGET, {"workflow_id": workflow_id}).first()
    if row is None:
        return None
    account_id, secret, rotated_at, listen_until, *key = row
    return HookTarget(account_id, secret, rotated_at, listen_until, tuple(key))


def published_graph(session: Session, target: HookTarget) -> dict | None:
    """The hook's workflow's published graph (shared: read only), or None while it is unpublished."""
    return graph_of(session, target.version_key)


def current_secret(session: Session, workflow_id: int) -> str | None:
    return session.scalar(select(Workflow.hook_secret).where(Workflow.id == workflow_id))


def rotate(wf: Workflow, now: datetime | None = None) -> None:
    """A new secret: the old URL (and the pre-upgrade one) is refused from the next request on."""
    wf.hook_secret, wf.hook_rotated_at = new_hook_secret(), now or utcnow()


def listen(wf: Workflow, minutes: int = LISTEN_MINUTES, now: datetime | None = None) -> datetime:
    """Arm the capture; the previous sample is dropped so the builder waits for a new one."""
    wf.hook_listen_until = (now or utcnow()) + timedelta(minutes=minutes)
    wf.hook_sample, wf.hook_sample_at = None, None
    return wf.hook_listen_until


def listening_until(wf: Workflow, now: datetime | None = None) -> datetime | None:
    """When the armed capture ends, or None if none is armed."""
    until = wf.hook_listen_until
    return until if until is not None and until > (now or utcnow()) else None


def capture(session: Session, workflow_id: int, payload: dict[str, Any], now: datetime | None = None) -> bool:
    """Keep `payload` as the sample if a capture is armed, disarming it; False if none was (or another
    request took it first: the guarded UPDATE lets exactly one of two racing requests win)."""
    now = now or utcnow()
    done = session.execute(
        update(Workflow).where(Workflow.id == workflow_id, Workflow.hook_listen_until > now)
        .values(hook_sample=payload, hook_sample_at=now, hook_listen_until=None)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def sample_fields(payload: Any) -> list[dict[str, Any]]:
    """The sample's mappable fields: [{"path": "lead.phone", "example": "+1..."}], dotted paths through
    nested objects (as the trigger's field_map reads them), leaves only; lists and keys with a dot are not reachable."""
    out: list[dict[str, Any]] = []

    def walk(value: Any, prefix: str) -> None:
        for key, inner in value.items():
            if len(out) >= MAX_FIELDS:
                return
            path = f"{prefix}{key}"
            if "." in key:  # the field_map splits paths at dots: such a key cannot be reached
                continue
            if isinstance(inner, dict):
                walk(inner, f"{path}.")
            elif not isinstance(inner, list):
                out.append({"path": path, "example": inner})

    if isinstance(payload, dict):
        walk(payload, "")
    return out
