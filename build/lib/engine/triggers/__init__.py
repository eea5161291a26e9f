"""Trigger types and which workflow triggers an event matches: pure rules, no database.

Each type is one small class in a module of this package, registered with `@register`
from `engine.triggers.base`. Importing the package imports every module in it, so a
new trigger type is one new file. The names below are what the web side and the job
layer import.
"""

import importlib
import pkgutil

from engine.triggers.base import (
    Event,
    Labels,
    NoTriggerConfig,
    Trigger,
    all_triggers,
    get,
    matches,
    register,
    unregister,
)

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

from engine.triggers.contact_created import ContactCreated  # noqa: E402  (after the loop: already registered)
from engine.triggers.customer_replied import CustomerReplied, keyword_match  # noqa: E402
from engine.triggers.inbound_webhook import InboundWebhook  # noqa: E402
from engine.triggers.tags import TagAdded, TagRemoved  # noqa: E402

CONTACT_CREATED = ContactCreated.type
TAG_ADDED = TagAdded.type
TAG_REMOVED = TagRemoved.type
CUSTOMER_REPLIED = CustomerReplied.type
INBOUND_WEBHOOK = InboundWebhook.type
# Types fired by contact events; "manual" is Add to Automation, which enrolls explicitly.
EVENT_TYPES = tuple(t.type for t in all_triggers() if t.fired_by_events)

__all__ = [
    "CONTACT_CREATED", "CUSTOMER_REPLIED", "EVENT_TYPES", "INBOUND_WEBHOOK", "TAG_ADDED", "TAG_REMOVED",
    "Event", "Labels", "NoTriggerConfig", "Trigger", "all_triggers", "get", "keyword_match", "matches",
    "register", "unregister",
]
