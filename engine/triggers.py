"""Which workflow triggers an event matches: pure rules, no database.

A trigger is the graph's `trigger` object ({"type", "config"}); an event is what
happened to one contact. Tags compare without regard to case, as people type
them both ways; reply keywords match whole words anywhere in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CONTACT_CREATED = "contact_created"
TAG_ADDED = "contact_tag_added"
TAG_REMOVED = "contact_tag_removed"
CUSTOMER_REPLIED = "customer_replied"
INBOUND_WEBHOOK = "inbound_webhook"
# Types fired by contact events; "manual" is Add to Automation, which enrolls explicitly.
EVENT_TYPES = (CONTACT_CREATED, TAG_ADDED, TAG_REMOVED, CUSTOMER_REPLIED, INBOUND_WEBHOOK)


@dataclass(frozen=True)
class Event:
    type: str
    contact_id: int
    # Unique per occurrence: with the workflow and contact it keys the enrollment, so an event
    # handled twice enrolls once.
    key: str
    tag: str | None = None
    text: str | None = None  # the reply's body
    workflow_id: int | None = None  # inbound webhooks address one workflow


def matches(trigger: dict[str, Any], event: Event) -> bool:
    if trigger.get("type") != event.type:
        return False
    config = trigger.get("config") or {}
    if event.type in (TAG_ADDED, TAG_REMOVED):
        return bool(event.tag) and str(config.get("tag", "")).casefold() == event.tag.casefold()
    if event.type == CUSTOMER_REPLIED:
        return keyword_match(config.get("keywords") or [], event.text or "")
    return True


def keyword_match(keywords: list[str], text: str) -> bool:
    """No keywords: any reply. Otherwise one of them as a whole word or phrase, any case."""
    if not keywords:
        return True
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(k.casefold().strip())}(?!\w)", folded) for k in keywords if k.strip())
