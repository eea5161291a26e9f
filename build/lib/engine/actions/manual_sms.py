from engine.actions.fields import message
from engine.actions.manual import ManualConfig, ManualStep
from engine.registry import register


class ManualSmsConfig(ManualConfig):
    message = message(required=False, load_default="")  # optional: the agent may write it


@register
class ManualSms(ManualStep):
    type = "manual_sms"
    kind = "sms"
    label = "Manual Action: SMS"
    description = "Queues an SMS for the assigned user to review, edit and send."
    schema = ManualSmsConfig

    def message(self, ctx) -> str | None:
        template = ctx.config.get("message") or ""
        return ctx.render(template) if template else ""
