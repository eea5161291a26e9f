"""Rules every request shares: authentication and roles, body and id limits, security headers,
log redaction, login throttling, and 503 when Redis is down before a commit."""
