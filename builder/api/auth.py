from flask import abort
from marshmallow import Schema, fields

from builder.api import blueprint
from builder.auth import find_user
from builder.extensions import db
from builder.models import ApiToken

bp = blueprint("api_auth", "/auth", public=True, description="API tokens")


class TokenRequest(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)


class TokenResponse(Schema):
    token = fields.String()
    user_id = fields.Integer()
    role = fields.String()


@bp.post("/token")
@bp.doc(security=[])
@bp.arguments(TokenRequest)
@bp.response(201, TokenResponse)
def create_token(data):
    """Trade an email and password for a bearer token."""
    user = find_user(data["email"], data["password"])
    if user is None:
        abort(401, description="That email and password do not match an active user.")
    token, secret = ApiToken.issue(user)
    db.session.add(token)
    db.session.commit()
    return {"token": secret, "user_id": user.id, "role": user.role}
