"""Settings > Team (admins): the account's people, inviting them, their roles, deactivating and
reactivating them, resetting a password, and handing a deactivated person's queued actions on.

An invite or a reset answers a `temporary_password` once (there is no email service): the admin hands
it over, and the person changes it on their profile. See builder.domain.team for the rules.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from builder.api.base import blueprint
from builder.domain import team
from builder.domain.access import ADMINS
from builder.domain.store import AfterCommit
from builder.extensions import db
from builder.http.auth import require_role
from builder.models import Role
from builder.schemas.contacts import Phone
from builder.schemas.fields import Id, Text
from builder.schemas.timestamps import DateTime
from jobqueue.effects import carry_out_committed

bp = blueprint("api_team", "/team", description="Team management (admins)")

ROLES = validate.OneOf([r.value for r in Role], error="Choose admin, manager or agent.")
EMAIL = validate.Email(error="Enter an email address like name@example.com.")


class MemberSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    phone = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = DateTime()


class InviteIn(Schema):
    email = Text(required=True, validate=[validate.Length(max=254), EMAIL])
    name = Text(load_default="", validate=validate.Length(max=200))
    role = fields.String(required=True, validate=ROLES)
    phone = Phone(load_default=None, allow_none=True, metadata={"description": "rung first by Manual Call"})


class WithPassword(Schema):
    user = fields.Nested(MemberSchema)
    temporary_password = fields.String(metadata={"description": "shown this once; only its hash is kept"})


class MemberPatch(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=ROLES)
    phone = Phone(allow_none=True)


class DeactivateIn(Schema):
    reassign_to = Id(allow_none=True, metadata={
        "description": "give their queued manual actions to this active user (null: unassigned); "
                       "leave out to keep them where they are"})


class ReassignIn(Schema):
    reassign_to = Id(required=True, allow_none=True, metadata={"description": "an active user; null: unassigned"})


class Moved(Schema):
    user = fields.Nested(MemberSchema)
    reassigned = fields.Integer(metadata={"description": "queued manual actions that changed hands"})


# require_role sits above @bp.arguments: the role is checked before the body is.
@bp.get("")
@require_role(*ADMINS)
@bp.response(200, MemberSchema(many=True))
def list_team():
    """Everyone in the account, deactivated people included."""
    return team.members(g.user.account_id)


@bp.post("")
@require_role(*ADMINS)
@bp.arguments(InviteIn)
@bp.response(201, WithPassword)
def invite(data: dict[str, Any]):
    """Add a person; the answer carries their temporary password, once."""
    user, password = team.invite(g.user, **data)
    db.session.commit()
    return {"user": user, "temporary_password": password}


@bp.patch("/<int:user_id>")
@require_role(*ADMINS)
@bp.arguments(MemberPatch)
@bp.response(200, MemberSchema)
def update_member(data: dict[str, Any], user_id: int):
    """Change a person's name, phone or role (the account keeps an active admin)."""
    user = team.member(g.user.account_id, user_id)
    if "role" in data:
        team.change_role(g.user, user, data["role"])
    if "name" in data:
        user.name = data["name"]
    if "phone" in data:
        user.phone = data["phone"]
    db.session.commit()
    return user


@bp.post("/<int:user_id>/deactivate")
@require_role(*ADMINS)
@bp.arguments(DeactivateIn)
@bp.response(200, Moved)
def deactivate(data: dict[str, Any], user_id: int):
    """Deactivate a person: their sessions and tokens stop working now, round-robin skips them, and
    with `reassign_to` their queued manual actions go to someone else in the same step."""
    user = team.member(g.user.account_id, user_id)
    after = AfterCommit()
    moved = team.deactivate(g.user, user, after, reassign="reassign_to" in data, reassign_to=data.get("reassign_to"))
    db.session.commit()
    carry_out_committed(after)
    return {"user": user, "reassigned": moved}


@bp.post("/<int:user_id>/reactivate")
@require_role(*ADMINS)
@bp.response(200, MemberSchema)
def reactivate(user_id: int):
    """Let a deactivated person log in again (with their password; reset it if they need a new one)."""
    user = team.member(g.user.account_id, user_id)
    team.reactivate(g.user, user)
    db.session.commit()
    return user


@bp.post("/<int:user_id>/reset-password")
@require_role(*ADMINS)
@bp.response(200, WithPassword)
def reset_password(user_id: int):
    """A new temporary password (answered once); the person's sessions and API tokens end."""
    user = team.member(g.user.account_id, user_id)
    password = team.reset_password(g.user, user)
    db.session.commit()
    return {"user": user, "temporary_password": password}


@bp.post("/<int:user_id>/reassign-actions")
@require_role(*ADMINS)
@bp.arguments(ReassignIn)
@bp.response(200, Moved)
def reassign_actions(data: dict[str, Any], user_id: int):
    """Give every queued manual action a person holds to someone else (or unassign them) in one step."""
    user = team.member(g.user.account_id, user_id)
    after = AfterCommit()
    moved = team.reassign_queued(g.user, user, data["reassign_to"], after)
    db.session.commit()
    carry_out_committed(after)
    return {"user": user, "reassigned": moved}
