from flask import g
from marshmallow import Schema, fields
from sqlalchemy import select

from builder.api import blueprint
from builder.auth import require_role
from builder.extensions import db
from builder.models import User

bp = blueprint("api_users", "/users", description="Team members")


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()


@bp.get("")
@bp.response(200, UserSchema(many=True))
@require_role("admin", "manager")
def list_users():
    """The account's users (admins and managers)."""
    return db.session.scalars(select(User).where(User.account_id == g.user.account_id).order_by(User.id)).all()
