"""The workflow interpreter: pure Python, no Flask, SQLAlchemy or Redis.

Storage and message sending reach the engine through the small interfaces in
`engine.ports`; action types are small handlers registered in `engine.registry`.
"""

from engine import actions as _actions  # noqa: F401  (registers the built-in action types)
