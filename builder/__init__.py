"""The web side of flowdesk: models, blueprints, API schemas."""
