"""Running the app: the development server, gunicorn settings, the flask CLI commands and the demo data."""
