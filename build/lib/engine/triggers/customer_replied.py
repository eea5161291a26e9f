from __future__ import annotations

import re
from typing import Any

from marshmallow import fields, validate

from engine.triggers.base import Event, NoTriggerConfig, Trigger, register


class ReplyTriggerConfig(NoTriggerConfig):
    # Empty: any reply fires; otherwise only replies that contain one of the keywords.
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                           validate=validate.Length(max=50))


def keyword_match(keywords: list[str], text: str) -> bool:
    """No keywords: any reply. Otherwise one of them as a whole word or phrase, any case."""
    if not keywords:
        return True
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(k.casefold().strip())}(?!\w)", folded) for k in keywords if k.strip())


@register
class CustomerReplied(Trigger):
    type = "customer_replied"
    label = "Customer replied"
    order = 40
    description = "Starts when the contact texts in, optionally only with certain keywords."
    schema = ReplyTriggerConfig

    def matches(self, config: dict[str, Any], event: Event) -> bool:
        return keyword_match(config.get("keywords") or [], event.text or "")
