from flask import abort, jsonify
from marshmallow import Schema, fields

from builder.api.base import blueprint
from builder.extensions import ApiError, db
from builder.http import throttle
from builder.http.auth import find_user
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
@bp.alt_response(429, schema=ApiError, description="Too many failed attempts for this email or from this address: "
                 "error code too_many_attempts; wait the Retry-After header's seconds")
def create_token(data):
    """Trade an email and password for a bearer token."""
    try:
        user = find_user(data["email"], data["password"])
    except throttle.TooManyAttempts as exc:
        body = {"error": {"code": "too_many_attempts",
                          "message": f"Too many failed attempts; try again in {exc.retry_after} s."}}
        return jsonify(body), 429, {"Retry-After": str(exc.retry_after)}
    if user is None:
        abort(401, description="That email and password do not match an active user.")
    token, secret = ApiToken.issue(user)
    db.session.add(token)
    db.session.commit()
    return {"token": secret, "user_id": user.id, "role": user.role}
