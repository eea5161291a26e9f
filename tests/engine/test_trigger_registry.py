"""Trigger types are a registry: one class per type, and the graph schema, the matching rule and the
builder's catalogue all read it, so a new type is one new module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from marshmallow import ValidationError, fields, validate

from engine import triggers
from engine.graph import TRIGGER_TYPES, load_graph
from engine.triggers import Event, NoTriggerConfig, Trigger, matches, register


class FormSubmittedConfig(NoTriggerConfig):
    form = fields.String(required=True, validate=validate.Length(min=1, max=50))


class FormSubmitted(Trigger):
    type = "test_form_submitted"
    label = "Form submitted (test)"
    description = "Defined by this test only."
    schema = FormSubmittedConfig

    def matches(self, config: dict[str, Any], event: Event) -> bool:
        return config["form"] == event.text


@pytest.fixture
def form_trigger() -> Iterator[type[Trigger]]:
    register(FormSubmitted)
    try:
        yield FormSubmitted
    finally:
        triggers.unregister(FormSubmitted.type)


def graph(trigger: dict[str, Any]) -> dict[str, Any]:
    return {"name": "t", "trigger": trigger, "start": None, "steps": {}}


def test_the_built_in_types_in_the_builders_order():
    assert [t.type for t in triggers.all_triggers()] == [
        "manual", "contact_created", "contact_tag_added", "contact_tag_removed", "customer_replied", "inbound_webhook"]
    assert triggers.EVENT_TYPES == ("contact_created", "contact_tag_added", "contact_tag_removed",
                                    "customer_replied", "inbound_webhook")
    assert (triggers.CONTACT_CREATED, triggers.TAG_ADDED, triggers.TAG_REMOVED, triggers.CUSTOMER_REPLIED,
            triggers.INBOUND_WEBHOOK) == triggers.EVENT_TYPES
    assert dict(TRIGGER_TYPES) == {t.type: t.label for t in triggers.all_triggers()}


def test_a_type_registers_once():
    with pytest.raises(ValueError, match="registered twice"):
        register(type("Again", (Trigger,), {"type": "manual", "label": "Again"}))
    assert triggers.get("manual").label == "Added manually or in bulk (Add to Automation)"


def test_a_registered_type_is_validated_matched_and_forgotten(form_trigger):
    loaded = load_graph(graph({"type": "test_form_submitted", "config": {"form": "demo"}}))
    assert loaded["trigger"] == {"type": "test_form_submitted", "config": {"form": "demo"}}
    with pytest.raises(ValidationError) as exc:
        load_graph(graph({"type": "test_form_submitted", "config": {}}))
    assert exc.value.messages == {"trigger.config.form": ["Missing data for required field."]}
    with pytest.raises(ValidationError) as exc:
        load_graph(graph({"type": "test_form_submitted", "config": {"form": "demo", "tag": "x"}}))
    assert exc.value.messages == {"trigger.config.tag": ["Unknown field."]}
    assert "test_form_submitted" in TRIGGER_TYPES

    trigger = loaded["trigger"]
    assert matches(trigger, Event("test_form_submitted", 1, "k", text="demo"))
    assert not matches(trigger, Event("test_form_submitted", 1, "k", text="other"))
    assert not matches(trigger, Event("contact_created", 1, "k", text="demo"))

    triggers.unregister(form_trigger.type)
    with pytest.raises(ValidationError) as exc:
        load_graph(graph({"type": "test_form_submitted", "config": {"form": "demo"}}))
    assert list(exc.value.messages) == ["trigger.type"]
    assert "test_form_submitted" not in TRIGGER_TYPES
    assert not matches(trigger, Event("test_form_submitted", 1, "k", text="demo"))


def test_the_unknown_type_message_lists_the_registered_types(form_trigger):
    with pytest.raises(ValidationError) as exc:
        load_graph(graph({"type": "moon_phase"}))
    assert exc.value.messages == {"trigger.type": ["Must be one of: " + ", ".join(sorted(TRIGGER_TYPES)) + "."]}
    assert "test_form_submitted" in exc.value.messages["trigger.type"][0]


def test_the_builder_lists_a_registered_type_and_saves_it(as_user, form_trigger):
    api = as_user("admin")
    listed = {t["type"]: t for t in api.get("/api/workflows/trigger-types").json}
    assert listed["test_form_submitted"] == {
        "type": "test_form_submitted", "label": "Form submitted (test)", "description": "Defined by this test only.",
        "fields": [{"name": "form", "kind": "text", "label": "Form", "required": True, "min": 1, "max": 50}]}
    res = api.post("/api/workflows", json=graph({"type": "test_form_submitted", "config": {"form": "demo"}}))
    assert res.status_code == 201, res.json
    res = api.post("/api/workflows", json=graph({"type": "test_form_submitted", "config": {}}))
    assert res.status_code == 422


def test_the_builder_forgets_an_unregistered_type(as_user):
    listed = [t["type"] for t in as_user("admin").get("/api/workflows/trigger-types").json]
    assert "test_form_submitted" not in listed
    assert listed == [t.type for t in triggers.all_triggers()]


def test_the_openapi_document_lists_the_trigger_types(client):
    spec = client.get("/api/openapi.json").json
    enums = [prop["enum"] for schema in spec["components"]["schemas"].values()
             for name, prop in schema.get("properties", {}).items()
             if name == "type" and "manual" in prop.get("enum", [])]
    assert enums == [sorted(TRIGGER_TYPES)]
