"""The REST API under /api: one flask-smorest blueprint per area (builder.api.base has what they share).

Every blueprint authenticates in before_request (the token endpoint excepted),
and every error, ours or the framework's, leaves as
{"error": {"code", "message", "fields"?}}.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from builder.api import (
    audit,
    auth,
    contact_export,
    contact_imports,
    contacts,
    conversations,
    custom_fields,
    custom_values,
    dashboard,
    email_settings,
    integration_settings,
    manual_action_session,  # noqa: F401  (adds Let's Start routes to manual_actions.bp)
    manual_actions,
    messaging_settings,
    notifications,
    reports,
    settings,
    tasks,
    team,
    users,
    workflows,
)
from builder.api.base import PAGE_ERRORS, handle_http_error, handle_refused, handle_unexpected
from builder.domain.errors import Refused
from builder.extensions import csrf


def register_api(api: Api, app: Flask, page_errors: Callable | None = None) -> None:
    """`page_errors` renders an error for a page (not the API) in the app's layout."""
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for module in (auth, users, contacts, conversations, workflows, manual_actions, dashboard, reports, settings,
                   messaging_settings, team, audit, custom_fields, contact_imports, contact_export,
                   notifications, tasks):
        csrf.exempt(module.bp)  # API writes check CSRF themselves when they come from a session
        api.register_blueprint(module.bp)
    csrf.exempt(integration_settings.bp)  # Settings > Integrations (outbound webhooks, Slack)
    api.register_blueprint(integration_settings.bp)
    csrf.exempt(email_settings.bp)  # Settings > Email (SMTP)
    api.register_blueprint(email_settings.bp)
    csrf.exempt(custom_values.bp)  # Settings > Custom values
    api.register_blueprint(custom_values.bp)
    csrf.exempt(workflows.templates.templates_bp)  # /api/workflow-templates: the second blueprint of workflows
    api.register_blueprint(workflows.templates.templates_bp)
    app.extensions[PAGE_ERRORS] = page_errors
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Refused, handle_refused)
    app.register_error_handler(Exception, handle_unexpected)
