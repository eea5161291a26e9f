"""Configuration from the environment, with embedded defaults for a laptop."""

from __future__ import annotations

import os
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT_DIR / "instance"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds_list(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'flowdesk.sqlite3'}"
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_env() -> dict:
    """Every setting the app reads, in one place (the README has the table)."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "flowdesk"),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER", ""),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        # Where the Twilio SDK sends its requests (tests point it at a local fake server).
        "TWILIO_API_URL": os.environ.get("TWILIO_API_URL", "https://api.twilio.com"),
        "TWILIO_TIMEOUT_SECONDS": float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "15")),
        # Seconds before each new attempt after a 429 or 5xx; when they run out the message fails.
        "TWILIO_RETRY_DELAYS": _seconds_list(os.environ.get("TWILIO_RETRY_DELAYS", "5,30,120,600")),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", ""),
        # Send Email: the SMTP server for accounts without their own (Settings > Email); none: the console
        # email provider, which records emails in the conversation and sends nothing.
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_SECURITY": os.environ.get("SMTP_SECURITY", "starttls"),  # starttls | tls | none
        "SMTP_FROM_ADDRESS": os.environ.get("SMTP_FROM_ADDRESS", ""),
        "SMTP_FROM_NAME": os.environ.get("SMTP_FROM_NAME", ""),
        "SMTP_REPLY_TO": os.environ.get("SMTP_REPLY_TO", ""),
        "SMTP_TIMEOUT_SECONDS": float(os.environ.get("SMTP_TIMEOUT_SECONDS", "30")),
        # Seconds before each new attempt after a temporary SMTP refusal (4xx) or no connection.
        "EMAIL_RETRY_DELAYS": _seconds_list(os.environ.get("EMAIL_RETRY_DELAYS", "30,120,600,1800")),
        # What a call placed through the console provider simulates (answered, no_answer, busy, voicemail, failed).
        "CONSOLE_CALL_OUTCOME": os.environ.get("CONSOLE_CALL_OUTCOME", "answered"),
        # Outbound webhooks and Slack (jobqueue.outbound_http): hosts (host or host:port, comma-separated) that may
        # resolve to private, loopback or other internal addresses; every other destination must be public.
        "ALLOWED_WEBHOOK_HOSTS": os.environ.get("ALLOWED_WEBHOOK_HOSTS", ""),
        # Seconds before each retry of a request refused for now (connection error, timeout, 429, 5xx).
        "WEBHOOK_RETRY_DELAYS": _seconds_list(os.environ.get("WEBHOOK_RETRY_DELAYS", "10,60,300,900,3600")),
        # A receiver's Retry-After is honoured up to this many seconds.
        "WEBHOOK_MAX_RETRY_AFTER_SECONDS": int(os.environ.get("WEBHOOK_MAX_RETRY_AFTER_SECONDS", "600")),
        "DEFAULT_PHONE_REGION": os.environ.get("DEFAULT_PHONE_REGION", "US"),
        # Contacts per enrollment job, and per database transaction inside it.
        "ENROLL_CHUNK_SIZE": int(os.environ.get("ENROLL_CHUNK_SIZE", "500")),
        "ENGINE_TXN_SIZE": int(os.environ.get("ENGINE_TXN_SIZE", "100")),
        # Milliseconds a batched pass lets events gather before it reads (jobqueue.passes): a steady stream of
        # events is then taken several to a job instead of one or two, each job costing RQ's bookkeeping.
        "PASS_GATHER_MS": int(os.environ.get("PASS_GATHER_MS", "20")),
        # How long a Let's Start claim on a manual action lasts without activity.
        "CLAIM_LEASE_SECONDS": int(os.environ.get("CLAIM_LEASE_SECONDS", "600")),
        # The reconciler re-enqueues work overdue by more than the grace period.
        "RECOVERY_GRACE_SECONDS": int(os.environ.get("RECOVERY_GRACE_SECONDS", "60")),
        "RECOVERY_INTERVAL_SECONDS": int(os.environ.get("RECOVERY_INTERVAL_SECONDS", "30")),
        # CSV import (jobqueue.contact_import): the largest upload (that route only), where uploads wait for
        # their job (the web and the workers must see the same folder; empty: instance/imports), rows per
        # transaction, and a job's time budget before it queues the rest as a new job.
        "CONTACT_IMPORT_MAX_BYTES": int(os.environ.get("CONTACT_IMPORT_MAX_BYTES", str(50 * 1024 * 1024))),
        "IMPORT_DIR": os.environ.get("IMPORT_DIR", ""),
        "CONTACT_IMPORT_CHUNK_ROWS": int(os.environ.get("CONTACT_IMPORT_CHUNK_ROWS", "1000")),
        "CONTACT_IMPORT_JOB_SECONDS": int(os.environ.get("CONTACT_IMPORT_JOB_SECONDS", "300")),
        # Days of execution log kept (jobqueue.pruning); 0 keeps it all. The logs of open runs stay.
        "EXECUTION_LOG_RETENTION_DAYS": int(os.environ.get("EXECUTION_LOG_RETENTION_DAYS", "90")),
        # CSRF tokens last as long as the login session: agents keep the queue open all day.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        # Failed logins (form and POST /api/auth/token) allowed per email address and per client IP
        # within the window; the next attempt answers 429 until the window ends.
        "LOGIN_MAX_FAILURES_PER_EMAIL": int(os.environ.get("LOGIN_MAX_FAILURES_PER_EMAIL", "10")),
        "LOGIN_MAX_FAILURES_PER_IP": int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "50")),
        "LOGIN_THROTTLE_WINDOW_SECONDS": int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", "900")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Largest request body in bytes, chunked ones included (413 beyond it); some routes allow less.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        # OpenAPI document served at /api/openapi.json.
        "API_TITLE": "flowdesk",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {"security": [{"bearer": []}]},
    }
