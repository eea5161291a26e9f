from builder.api import blueprint

bp = blueprint("api_manual_actions", "/manual-actions")
