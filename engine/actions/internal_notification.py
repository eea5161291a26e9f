"""Tell people on the team about a contact: an in-app notification (the bell in the header) for the
contact's assigned user, chosen users, or everyone with a role; optionally also texted to each
user's own phone (the one in their profile) and/or emailed to their login address (through the
email outbox, like Send Email, but never part of the contact's conversation).
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.actions.fields import Template
from engine.registry import Action, Result, register

TITLE_MAX = 200
BODY_MAX = 2000
ROLES = ("admin", "manager", "agent")
RECIPIENTS = {"assigned_user": "The contact's assigned user", "users": "Chosen users", "role": "Everyone with a role"}


class InternalNotificationConfig(Schema):
    recipients = fields.String(
        load_default="assigned_user", validate=validate.OneOf(list(RECIPIENTS)),
        metadata={"label": "Send to", "choice_labels": RECIPIENTS})
    user_ids = fields.List(
        fields.Integer(strict=True), load_default=None, validate=validate.Length(min=1, max=100),
        metadata={"kind": "users", "label": "Users",
                  "required_if": {"field": "recipients", "value": "users"},
                  "shown_if": {"field": "recipients", "in": ["users"]}})
    role = fields.String(
        load_default=None, validate=validate.OneOf(ROLES),
        metadata={"label": "Role", "choice_labels": {"admin": "Admins", "manager": "Managers", "agent": "Agents"},
                  "required_if": {"field": "recipients", "value": "role"},
                  "shown_if": {"field": "recipients", "in": ["role"]}})
    title = Template(required=True, validate=validate.Length(min=1, max=TITLE_MAX),
                     metadata={"help": "Merge fields are filled in with the contact's details."})
    body = Template(load_default="", validate=validate.Length(max=BODY_MAX), metadata={"label": "Message"})
    text_user = fields.Boolean(
        load_default=False,
        metadata={"label": "Also text it to the user's own phone",
                  "help": "To the phone in each user's profile, through the account's SMS provider."})
    email_user = fields.Boolean(
        load_default=False,
        metadata={"label": "Also email it to the user",
                  "help": "To the address each user logs in with, from the account's sender (Settings > Email)."})

    @validates_schema
    def _recipients_given(self, data, **_):
        mode = data["recipients"]
        if mode == "users":
            ids = data.get("user_ids")
            if not ids:
                raise ValidationError("Choose at least one user.", "user_ids")
            if len(set(ids)) != len(ids):
                raise ValidationError("Each user may appear once.", "user_ids")
        if mode == "role" and not data.get("role"):
            raise ValidationError("Choose a role.", "role")


@register
class InternalNotification(Action):
    type = "internal_notification"
    label = "Send Internal Notification"
    category = "Communication"
    description = "Notifies team members in the app: the contact's assigned user, chosen users or a whole role."
    schema = InternalNotificationConfig
    outputs = {"title": "Notification title"}

    def run(self, ctx):
        user_ids, why_none = self._recipients(ctx)
        if not user_ids:
            return Result.skip(ctx.step.next, why_none)
        title = ctx.render(ctx.config["title"]).strip()
        if not title:
            return Result.skip(ctx.step.next, "rendered title is empty")
        body = ctx.render(ctx.config.get("body") or "").strip()
        # Merge fields can lengthen the text: keep it within what the columns and the bell show.
        title, body = title[:TITLE_MAX], body[:BODY_MAX]
        texts: dict[str, object] = {}
        sms_to: dict[int, str] = {}
        if ctx.config.get("text_user"):
            phones = ctx.store.user_phones(user_ids)
            sms_to = {uid: phone for uid, phone in phones.items() if phone}
            # The in-app notification goes all the same; the log says who gets no text, and why.
            texts = {"texted_user_ids": sorted(sms_to),
                     "not_texted": {str(uid): "user has no phone number in their profile"
                                    for uid in user_ids if uid not in sms_to}}
        emailed = bool(ctx.config.get("email_user"))
        ids = ctx.store.notify_users(ctx.run, ctx.contact, user_ids, title=title, body=body, key=ctx.key,
                                     sms_to=sms_to, email_users=emailed)
        if emailed:
            texts["emailed_user_ids"] = user_ids
        return Result.go(ctx.step.next, user_ids=user_ids, notification_ids=ids, title=title, **texts)

    @staticmethod
    def _recipients(ctx) -> tuple[list[int], str]:
        """The active users to notify, in a stable order, or none and why."""
        cfg = ctx.config
        mode = cfg["recipients"]
        if mode == "assigned_user":
            owner = ctx.contact.assigned_user_id
            if owner is None:
                return [], "contact has no assigned user"
            if not ctx.store.active_user_ids([owner]):
                return [], "the contact's assigned user is deactivated"
            return [owner], ""
        if mode == "users":
            active = set(ctx.store.active_user_ids(cfg["user_ids"]))
            chosen = [uid for uid in cfg["user_ids"] if uid in active]
            return chosen, "none of the chosen users is active"
        role = cfg["role"]
        return ctx.store.active_user_ids_in_role(role), f"no active user has the {role} role"
