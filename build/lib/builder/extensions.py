"""Extensions are created once, without an app, and bound in create_app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import Schema, fields
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
class ErrorDetail(Schema):
    code = fields.String(metadata={"description": "machine-readable, e.g. validation_error"})
    message = fields.String()
    fields = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": 'per field, keyed by path, e.g. "steps.s2.config.message"'},
    )


class ApiError(Schema):
    """The one error shape every /api endpoint answers with (see builder.api)."""

    error = fields.Nested(ErrorDetail)


class FlowdeskApi(Api):
    ERROR_SCHEMA = ApiError


api = FlowdeskApi()
# threading mode explicitly: left alone, Flask-SocketIO would pick eventlet if present.
socketio = SocketIO(async_mode="threading")
