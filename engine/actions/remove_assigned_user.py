"""Remove Assigned User: the contact is left unassigned; its queued manual actions follow it (to anyone)."""

from marshmallow import Schema

from engine.registry import Action, Result, register


class RemoveAssignedUserConfig(Schema):
    pass


@register
class RemoveAssignedUser(Action):
    type = "remove_assigned_user"
    label = "Remove Assigned User"
    category = "Contact"
    description = "Removes the assigned user from a contact."
    schema = RemoveAssignedUserConfig

    def run(self, ctx):
        former = ctx.contact.assigned_user_id
        if former is None:
            return Result.skip(ctx.step.next, "contact has no assigned user")
        ctx.store.assign(ctx.contact, None)
        return Result.go(ctx.step.next, former_user_id=former)
