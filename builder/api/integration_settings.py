"""Integration settings (admins only): the signing secret of outbound webhooks and the Slack channel.

The signing secret is shown to admins (a receiver needs it to check X-Flowdesk-Signature) and
can be rotated; requests signed before a rotation are not re-signed. The Slack incoming-webhook
URL is write-only: it is stored encrypted and reads show only a masked hint of it.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from builder.api.base import blueprint, fail
from builder.domain import audit
from builder.domain.access import ADMINS
from builder.extensions import db
from builder.http.auth import require_role
from builder.integrations import outbound
from builder.schemas.timestamps import DateTime

bp = blueprint("api_integration_settings", "/settings", description="Account settings (admins)")

SECRET_ROTATED = "settings.signing_secret_rotated"
SLACK_SAVED = "settings.slack_saved"
SLACK_REMOVED = "settings.slack_removed"
HTTP_URL = validate.URL(schemes={"http", "https"}, require_tld=False,
                        error="Enter the incoming-webhook URL Slack gave you (https://hooks.slack.com/services/…).")


class IntegrationSettingsOut(Schema):
    signing_secret = fields.String(metadata={"description": "signs every outbound webhook (X-Flowdesk-Signature)"})
    slack_webhook_url_set = fields.Boolean()
    slack_webhook_url_hint = fields.String(allow_none=True,
                                           metadata={"description": "masked; the URL itself is never returned"})
    updated_at = DateTime(allow_none=True)


class SlackIn(Schema):
    url = fields.String(required=True, validate=[validate.Length(max=500), HTTP_URL])


def _current(account_id: int) -> dict[str, Any]:
    try:
        secret = outbound.signing_secret(account_id)  # made on first use
        slack = outbound.slack_url(account_id)
    except outbound.UnreadableSecret as exc:
        fail(409, str(exc))
    return {"signing_secret": secret, "slack_webhook_url_set": slack is not None,
            "slack_webhook_url_hint": outbound.mask_url(slack) if slack else None,
            "updated_at": outbound.stored(account_id).updated_at}


@bp.get("/integrations")
@require_role(*ADMINS)
@bp.response(200, IntegrationSettingsOut)
def get_integrations():
    """The signing secret and whether a Slack channel is set (the Slack URL is never returned)."""
    current = _current(g.user.account_id)
    db.session.commit()  # keeps a secret made just now
    return current


@bp.post("/integrations/signing-secret")
@require_role(*ADMINS)
@bp.response(200, IntegrationSettingsOut)
def rotate_signing_secret():
    """Replace the signing secret: requests from now on are signed with the new one."""
    outbound.rotate_signing_secret(g.user.account_id, g.user.id)
    audit.settings_event(g.user, SECRET_ROTATED)
    db.session.commit()
    return _current(g.user.account_id)


@bp.put("/integrations/slack")
@require_role(*ADMINS)
@bp.arguments(SlackIn)
@bp.response(200, IntegrationSettingsOut)
def put_slack(data: dict[str, Any]):
    """Set the Slack incoming-webhook URL that Send Slack Message steps post to."""
    outbound.set_slack_url(g.user.account_id, data["url"].strip(), g.user.id)
    audit.settings_event(g.user, SLACK_SAVED)
    db.session.commit()
    return _current(g.user.account_id)


@bp.delete("/integrations/slack")
@require_role(*ADMINS)
@bp.response(200, IntegrationSettingsOut)
def delete_slack():
    """Forget the Slack URL: Send Slack Message steps are then skipped, with the reason in the log."""
    outbound.set_slack_url(g.user.account_id, None, g.user.id)
    audit.settings_event(g.user, SLACK_REMOVED)
    db.session.commit()
    return _current(g.user.account_id)
