"""Marshmallow shapes shared by the REST API, the live events and the pages:
fields, contacts, manual actions, messages, workflows."""
