"""Delete Contact: soft-delete the run's contact as the app does everywhere, then end this run.

The contact's other open runs end and its queued manual actions leave the queue (see
builder.domain.contacts.delete_contact); its history stays readable.
"""

from marshmallow import Schema

from engine.registry import Action, Outcome, Result, register

REASON = "the contact was deleted; the workflow ends here"


class DeleteContactConfig(Schema):
    pass


@register
class DeleteContact(Action):
    type = "delete_contact"
    label = "Delete Contact"
    category = "Contact"
    description = "Removes a contact from the system; the workflow ends for it."
    schema = DeleteContactConfig
    exit_layout = {"kind": "none"}

    def exit_fields(self, step):
        return []

    def run(self, ctx):
        ctx.store.delete_contact(ctx.contact)
        return Result(Outcome.ENDED, output={"reason": REASON, "contact_id": ctx.contact.id})
