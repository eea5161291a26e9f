from builder.api import blueprint

bp = blueprint("api_contacts", "/contacts")
