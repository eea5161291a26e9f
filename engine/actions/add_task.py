"""Add a task about the contact for a person: the contact's assigned user, a chosen user, or users in turn.

The title and description are rendered with the contact's merge fields when the step runs. The task is
due a time after the step runs, or at a date and time in the contact's own time zone. With nobody to
give it to (no assigned user, or none of the chosen users active) the step is skipped, saying why.
"""

from datetime import UTC, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engine.actions.fields import Template
from engine.actions.wait import contact_zone
from engine.registry import Action, Result, register

TITLE_MAX = 200
BODY_MAX = 10_000
DUE_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
OWNER, USER, ROUND_ROBIN = "contact_owner", "user", "round_robin"


class AddTaskConfig(Schema):
    title = Template(required=True, validate=validate.Length(min=1, max=TITLE_MAX),
                     metadata={"label": "Task title"})
    body = Template(load_default="", validate=validate.Length(max=BODY_MAX), metadata={"label": "Description"})
    assign_to = fields.String(load_default=OWNER, validate=validate.OneOf([OWNER, USER, ROUND_ROBIN]),
                              metadata={"label": "Assign to",
                                        "choice_labels": {OWNER: "The contact's assigned user",
                                                          USER: "A chosen user",
                                                          ROUND_ROBIN: "Chosen users in turn (round-robin)"}})
    user_ids = fields.List(fields.Integer(strict=True), validate=validate.Length(min=1, max=100),
                           metadata={"kind": "users", "label": "Users",
                                     "help": "One user, or several who take tasks in turn.",
                                     "required_if": {"field": "assign_to", "value": ROUND_ROBIN},
                                     "shown_if": {"field": "assign_to", "in": [USER, ROUND_ROBIN]}})
    due = fields.String(load_default="after", validate=validate.OneOf(["after", "at"]),
                        metadata={"label": "Due", "choice_labels": {"after": "A time after the step runs",
                                                                    "at": "At a date and time"}})
    due_amount = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=100_000),
                                metadata={"label": "Due in", "shown_if": {"field": "due", "in": ["after"]}})
    due_unit = fields.String(load_default="days", validate=validate.OneOf(list(DUE_UNITS)),
                             metadata={"label": "Unit", "shown_if": {"field": "due", "in": ["after"]}})
    # A wall-clock time, e.g. "2026-12-01T09:00", read in the contact's zone; kept as ISO text (graphs are JSON).
    due_at = fields.NaiveDateTime(metadata={"label": "Due at", "help": "In the contact's own time zone.",
                                            "required_if": {"field": "due", "value": "at"},
                                            "shown_if": {"field": "due", "in": ["at"]}})

    @validates_schema
    def _mode_fields(self, data, **_):
        users = data.get("user_ids")
        if data["assign_to"] in (USER, ROUND_ROBIN) and not users:
            raise ValidationError("Choose the user to give tasks to." if data["assign_to"] == USER
                                  else "Choose the users who take tasks in turn.", "user_ids")
        if data["assign_to"] == USER and len(users) != 1:
            raise ValidationError("Choose one user, or round-robin to share tasks among several.", "user_ids")
        if users and len(set(users)) != len(users):
            raise ValidationError("Each user may appear once.", "user_ids")
        if data["due"] == "at" and "due_at" not in data:
            raise ValidationError("Give the date and time the task is due.", "due_at")

    @post_load
    def _due_at_as_text(self, data, **_):
        if isinstance(data.get("due_at"), datetime):
            data["due_at"] = data["due_at"].isoformat()
        return data


def due_time(cfg: dict, timezone: str, now: datetime) -> datetime:
    """When the task is due, as naive UTC."""
    if cfg.get("due", "after") == "after":
        return now + timedelta(seconds=cfg.get("due_amount", 1) * DUE_UNITS[cfg.get("due_unit", "days")])
    local = datetime.fromisoformat(cfg["due_at"]) if isinstance(cfg["due_at"], str) else cfg["due_at"]
    return local.replace(tzinfo=contact_zone(timezone)).astimezone(UTC).replace(tzinfo=None)


@register
class AddTask(Action):
    type = "add_task"
    label = "Add Task"
    category = "Contact"
    description = "Creates a task about the contact for a person, due after a time or at a date and time."
    schema = AddTaskConfig
    outputs = {"task_id": "Task id", "due_at": "Due (UTC, ISO 8601)"}

    def run(self, ctx):
        cfg = ctx.config
        assignee_id, reason = self._assignee(ctx)
        if assignee_id is None:
            return Result.skip(ctx.step.next, reason)
        title = ctx.render(cfg["title"]).strip()[:TITLE_MAX]
        if not title:
            return Result.skip(ctx.step.next, "the title rendered empty")
        body = ctx.render(cfg.get("body") or "")[:BODY_MAX]
        due_at = due_time(cfg, ctx.contact.timezone, ctx.now)
        task_id = ctx.store.create_task(ctx.run, ctx.contact, title=title, body=body, assignee_id=assignee_id,
                                        due_at=due_at, key=ctx.key)
        return Result.go(ctx.step.next, task_id=task_id, assignee_id=assignee_id, due_at=due_at.isoformat(),
                         title=title)

    def _assignee(self, ctx) -> tuple[int | None, str]:
        """The user to give the task to, or None and why there is nobody."""
        cfg = ctx.config
        if cfg.get("assign_to", OWNER) == OWNER:
            owner = ctx.contact.assigned_user_id
            if owner is None:
                return None, "the contact has no assigned user"
            if not ctx.store.active_user_ids([owner]):
                return None, "the contact's assigned user is not active"
            return owner, ""
        # Deactivated (or deleted) users drop out, as in Assign To User; the rest keep their turns.
        active = set(ctx.store.active_user_ids(cfg["user_ids"]))
        users = [uid for uid in cfg["user_ids"] if uid in active]
        if not users:
            return None, ("the chosen user is not active" if cfg["assign_to"] == USER
                          else "none of the chosen users is active")
        if len(users) == 1:
            return users[0], ""
        turn = ctx.store.next_in_rotation(f"{ctx.run.workflow_id}:{ctx.step.id}")
        return users[turn % len(users)], ""
