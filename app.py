"""flowdesk: the Flask app factory. `flask --app app run` / `flask --app app worker`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from builder import config, database
from builder.api import register_api
from builder.extensions import api, csrf, db, login_manager, migrate, socketio
from builder.http import input_limits, log_redaction, security_headers, unavailable
from builder.live import emit, sockets
from builder.server import cli
from builder.web import (
    auth_pages,
    contact_import_pages,
    contact_pages,
    custom_field_pages,
    custom_value_pages,
    email_settings_pages,
    error_pages,
    integration_pages,
    pages,
    report_pages,
    settings_pages,
    task_pages,
    team_pages,
    twilio_webhooks,
    unsubscribe_pages,
    workflow_hooks,
    workflow_pages,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR), instance_relative_config=True)
    app.config.from_mapping(config.from_env())
    if test_config:
        app.config.from_mapping(test_config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(uri)
    if database.is_sqlite(uri):
        config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install(app)
    input_limits.install(app)  # before any route is added: it replaces the int converter

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.ROOT_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    api.init_app(app)
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE", app.config["REDIS_URL"])
    # init_app keeps options from earlier calls, the queue's client manager included:
    # without this, an app made without a queue would still publish through the last one.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=queue, channel=emit.channel(queue))

    register_api(api, app, page_errors=error_pages.render_error_page)
    app.register_blueprint(auth_pages.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(workflow_pages.bp)
    app.register_blueprint(contact_pages.bp)
    app.register_blueprint(contact_import_pages.bp)
    app.register_blueprint(report_pages.bp)
    app.register_blueprint(settings_pages.bp)
    app.register_blueprint(integration_pages.bp)
    app.register_blueprint(custom_field_pages.bp)
    app.register_blueprint(custom_value_pages.bp)
    app.register_blueprint(team_pages.bp)
    app.register_blueprint(task_pages.bp)
    csrf.exempt(twilio_webhooks.bp)  # Twilio signs its requests instead
    app.register_blueprint(twilio_webhooks.bp)
    csrf.exempt(workflow_hooks.bp)  # authenticated by the secret in the URL
    app.register_blueprint(workflow_hooks.bp)
    csrf.exempt(unsubscribe_pages.bp)  # the signed token in the URL; mail clients one-click POST without a form
    app.register_blueprint(unsubscribe_pages.bp)
    app.register_blueprint(email_settings_pages.bp)
    cli.register(app)
    unavailable.register(app)  # Redis down before a commit: 503, not 500
    security_headers.register(app)
    sockets.register(socketio)  # on every app: each init_app builds a new server without our handlers
    return app
