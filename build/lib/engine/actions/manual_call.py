from engine.actions.manual import ManualConfig, ManualStep
from engine.registry import register


@register
class ManualCall(ManualStep):
    type = "manual_call"
    kind = "call"
    label = "Manual Action: Call"
    description = "Queues a phone call for the assigned user."
    schema = ManualConfig
