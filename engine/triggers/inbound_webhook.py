from marshmallow import fields, validate

from engine.triggers.base import NoTriggerConfig, Trigger, register


class WebhookTriggerConfig(NoTriggerConfig):
    # Maps a field of the posted JSON to a contact field, e.g. {"fname": "first_name"}. Labels only: which
    # targets exist is checked when a request arrives, so workflows saved before stay valid.
    field_map = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100), metadata={"label": "JSON field"}),
        values=fields.String(validate=validate.Length(min=1, max=100), metadata={"label": "Contact field"}),
        load_default=dict, metadata={
            "label": "Field mapping",
            "help": "A field of the request (a dotted path like lead.phone) to the contact field it fills: "
                    "phone, email, first_name, last_name, timezone or custom.<key>. Map a phone or an email "
                    "so the contact can be found or created."})


@register
class InboundWebhook(Trigger):
    type = "inbound_webhook"
    label = "Inbound webhook"
    order = 50
    description = "Starts when the workflow's secret URL receives JSON."
    schema = WebhookTriggerConfig
