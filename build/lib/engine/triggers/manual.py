from engine.triggers.base import Trigger, register


@register
class Manual(Trigger):
    type = "manual"
    label = "Added manually or in bulk (Add to Automation)"
    order = 0
    description = "Contacts enter only when someone adds them."
    fired_by_events = False
