from engine.triggers.base import Trigger, register


@register
class ContactCreated(Trigger):
    type = "contact_created"
    label = "Contact created"
    order = 10
    description = "Starts for every new contact."
