"""What the builder can put in a workflow: action types and trigger types, each with the form
fields generated from the marshmallow schema that validates its config (builder.schema_forms)."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as f

from builder.api.workflows.common import bp
from builder.schemas.forms import describe_schema
from engine import registry, triggers

FIELDS_DOC = ("form fields: {name, kind, label, required, help?, default?, choices?, min?, max?, item?, fields?}; "
              "kind: text, template, integer, boolean, choice, datetime, time_zone, list, object, users, "
              "condition_field, step")


class ActionTypeSchema(Schema):
    type = f.String()
    label = f.String()
    category = f.String()
    description = f.String()
    pauses = f.Boolean()
    fields = f.List(f.Dict(), metadata={"description": FIELDS_DOC})
    exits = f.Dict(metadata={"description": "how the step's ways out are stored: next, none, goto, branches "
                                                 "or named"})
    outputs = f.Dict(keys=f.String(), values=f.String(), metadata={
        "description": "{field: label} of the step's output that later steps read as "
                       "{{ steps.<step id>.<field> }} (\"contact.first_name\": a field inside \"contact\")"})


class TriggerTypeSchema(Schema):
    type = f.String()
    label = f.String()
    description = f.String()
    fields = f.List(f.Dict(), metadata={"description": FIELDS_DOC})


@bp.get("/action-types")
@bp.response(200, ActionTypeSchema(many=True))
def action_types():
    """Every action type the engine knows, for the builder's palette and its step forms."""
    return [
        {"type": a.type, "label": a.label, "category": a.category, "description": a.description, "pauses": a.pauses,
         "fields": describe_schema(a.schema), "exits": a.exit_layout, "outputs": a.outputs}
        for a in registry.all_actions()
    ]


@bp.get("/trigger-types")
@bp.response(200, TriggerTypeSchema(many=True))
def trigger_types():
    """Every trigger a workflow can start from, with its settings form."""
    return [{"type": t.type, "label": t.label, "description": t.description, "fields": describe_schema(t.schema)}
            for t in triggers.all_triggers()]
