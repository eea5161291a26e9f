"""The web side of flowdesk, in layers: server, api and web, live, http, schemas, integrations,
domain, models (see docs/architecture.md)."""
