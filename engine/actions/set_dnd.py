"""Disable/Enable DND: turn a contact's do-not-disturb on or off for SMS, calls, email or all of them."""

from marshmallow import Schema, fields, validate

from engine.registry import Action, Result, register

CHANNELS = {"sms": ["dnd_sms"], "call": ["dnd_call"], "email": ["dnd_email"],
            "all": ["dnd_sms", "dnd_call", "dnd_email"]}
CHANNEL_LABELS = {"sms": "SMS", "call": "Calls", "email": "Email", "all": "All channels"}


class SetDndConfig(Schema):
    channel = fields.String(load_default="all", validate=validate.OneOf(list(CHANNELS)),
                            metadata={"label": "Channel", "choice_labels": CHANNEL_LABELS})
    dnd = fields.String(load_default="on", validate=validate.OneOf(["on", "off"]),
                        metadata={"label": "Do not disturb", "choice_labels": {"on": "Enable DND",
                                                                                "off": "Disable DND"}})


@register
class SetDnd(Action):
    type = "set_dnd"
    label = "Disable/Enable DND"
    category = "Contact"
    description = 'Disables or enables "Do Not Disturb" for a contact, on one channel or on all of them.'
    schema = SetDndConfig

    def run(self, ctx):
        channel, on = ctx.config["channel"], ctx.config["dnd"] == "on"
        changed = [name for name in CHANNELS[channel] if bool(getattr(ctx.contact, name)) != on]
        if not changed:
            return Result.skip(ctx.step.next, f"DND is already {ctx.config['dnd']} for {CHANNEL_LABELS[channel]}",
                               channel=channel, dnd=ctx.config["dnd"])
        ctx.store.set_dnd(ctx.contact, changed, on)
        return Result.go(ctx.step.next, channel=channel, dnd=ctx.config["dnd"], changed=changed)
