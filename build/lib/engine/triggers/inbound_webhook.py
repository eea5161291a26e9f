from marshmallow import fields, validate

from engine.triggers.base import NoTriggerConfig, Trigger, register


class WebhookTriggerConfig(NoTriggerConfig):
    # Maps a field of the posted JSON to a contact field, e.g. {"fname": "first_name"}.
    field_map = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)),
                            values=fields.String(validate=validate.Length(min=1, max=100)), load_default=dict)


@register
class InboundWebhook(Trigger):
    type = "inbound_webhook"
    label = "Inbound webhook"
    order = 50
    description = "Starts when the workflow's secret URL receives JSON."
    schema = WebhookTriggerConfig
