"""Round trip: every graph the API accepts loads in the builder and saves back unchanged.

Hypothesis generates valid graphs (checked by engine.graph.load_graph, as the API
does). The page's own model module (static/js/builder/model.js) runs in Chromium:
toGraph(fromGraph(g)) must give g back; and through the whole page: a workflow
opened in the builder and saved sends a PUT body equal to the stored graph.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, assume, given, settings
from marshmallow import ValidationError
from sqlalchemy import select

import engine.actions  # noqa: F401  (registers the action types)
from builder.extensions import db
from builder.models import CustomValue
from builder.schemas.forms import describe_schema, sample_config
from engine import registry
from engine.graph import TRIGGER_TYPES, load_graph
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import login
from tests.factories import make_workflow

ROUNDTRIP = """async (text) => {
  const model = await import("/static/js/builder/model.js");
  return JSON.stringify(model.toGraph(model.fromGraph(JSON.parse(text))));
}"""
JS_SAFE = 2**31 - 1  # row ids are 32-bit; JavaScript numbers hold them exactly

# --- strategies -------------------------------------------------------------------

# No braces or percent signs: free text must not turn into (invalid) merge syntax. No NUL either:
# the API refuses it in any text (a 422 naming the field).
TEXT_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="{}%#\x00")
PLAIN = st.text(TEXT_CHARS, max_size=40)
WORDS = st.text(TEXT_CHARS, min_size=1, max_size=40)
TEMPLATE = st.one_of(WORDS, st.builds(lambda a, b: f"{a}{{{{ contact.first_name }}}}{b}", PLAIN, PLAIN))
STEP_ID = st.from_regex(r"\A[A-Za-z0-9_-]{1,12}\Z")
# Types the generator writes configs for by hand; any other registered type gets the
# smallest config its descriptors accept (builder.schema_forms.sample_config).
LINEAR = ["add_tag", "remove_tag", "add_note", "send_sms", "manual_sms", "manual_call", "assign_user", "wait",
          "update_contact_field"]


def optional(draw, config: dict[str, Any], key: str, strategy) -> None:
    if draw(st.booleans()):
        config[key] = draw(strategy)


@st.composite
def configs(draw, step_type: str, user_ids: list[int]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if step_type in ("add_tag", "remove_tag"):
        config["tag"] = draw(TEMPLATE)
    elif step_type == "add_note":
        config["body"] = draw(TEMPLATE)
    elif step_type == "send_sms":
        config["message"] = draw(TEMPLATE)
    elif step_type in ("manual_sms", "manual_call"):
        if step_type == "manual_sms":
            optional(draw, config, "message", st.one_of(st.just(""), TEMPLATE))
        optional(draw, config, "name", PLAIN)
        optional(draw, config, "continue_without_waiting", st.booleans())
    elif step_type == "assign_user":
        ids = draw(st.lists(st.sampled_from(user_ids), min_size=1, max_size=len(user_ids), unique=True))
        config["user_ids"] = ids
        if draw(st.booleans()):
            config["split"] = "weighted"
            config["weights"] = draw(st.lists(st.integers(1, 1000), min_size=len(ids), max_size=len(ids)))
        optional(draw, config, "only_unassigned", st.booleans())
    elif step_type == "wait":
        if draw(st.booleans()):
            config.update(mode="until", until=draw(st.sampled_from(["2030-01-01T09:00:00", "2031-06-15T18:30:00"])))
        else:
            config["amount"] = draw(st.integers(1, 100_000))
            optional(draw, config, "unit", st.sampled_from(["seconds", "minutes", "hours", "days"]))
    elif step_type == "update_contact_field":
        config["field"] = draw(st.sampled_from(["first_name", "email", "custom.plan", "timezone"]))
        config["value"] = draw(PLAIN)
    elif step_type == "if_else":
        config["branches"] = [
            {"name": draw(PLAIN), "match": draw(st.sampled_from(["all", "any"])),
             "conditions": [draw(st.sampled_from([
                 {"field": "contact.email", "op": "is_not_empty"},
                 {"field": "contact.tags", "op": "has_tag", "value": "vip"},
                 {"field": "contact.custom.score", "op": "greater_than", "value": 5},
             ]))], "next": None}
            for _ in range(draw(st.integers(1, 3)))
        ]
        config["else_next"] = None
    elif step_type != "goto":
        action = registry.get(step_type)
        config = sample_config(describe_schema(action.schema), user_id=user_ids[0])
    return config


def flow_exits(step_type: str, config: dict[str, Any]) -> list[str]:
    """Paths ("next", "branches.0.next", "replied_next") of a step's flow exits."""
    layout = registry.get(step_type).exit_layout
    if layout["kind"] == "by_field":  # Wait: its exits follow its mode
        layout = layout["cases"].get(config.get(layout["field"]), layout["default"])
    kind = layout["kind"]
    if kind == "next":
        return ["next"]
    if kind == "branches":
        branches = range(len(config[layout["list"]]))
        paths = [f"{layout['list']}.{i}.{layout['target']}" for i in branches]
        return paths + [layout["else"]] if layout.get("else") else paths  # Split has no else
    if kind == "named":
        return [exit["field"] for exit in layout["exits"]]
    return []


def set_exit(step: dict[str, Any], path: str, target: str) -> None:
    if path == "next":
        step["next"] = target
        return
    node: Any = step["config"]
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = target


@st.composite
def graphs(draw, user_ids: list[int]) -> dict[str, Any]:
    """A graph as a client might send it: a tree of steps in a random shape, joins
    (two exits leading to one step), Go To jumps anywhere, optional keys left out."""
    types = sorted({a.type for a in registry.all_actions()})
    ids = draw(st.lists(STEP_ID, max_size=10, unique=True))
    steps: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    free: list[tuple[str, str]] = []  # (step id, exit path) not pointing anywhere yet
    for index, step_id in enumerate(ids):
        if index and not free:
            break
        step_type = draw(st.sampled_from(types if draw(st.booleans()) else LINEAR))
        step: dict[str, Any] = {"type": step_type, "config": draw(configs(step_type, user_ids))}
        if draw(st.booleans()):
            step["name"] = draw(PLAIN)
        if index:
            owner, path = free.pop(draw(st.integers(0, len(free) - 1)))
            set_exit(steps[owner], path, step_id)
        steps[step_id] = step
        order.append(step_id)
        free.extend((step_id, path) for path in flow_exits(step_type, step["config"]))
    for owner, path in free:
        later = order[order.index(owner) + 1:]
        if later and draw(st.integers(0, 3)) == 0:
            set_exit(steps[owner], path, draw(st.sampled_from(later)))  # a join: forward only, no loop
        elif path == "next" and draw(st.booleans()):
            steps[owner]["next"] = None
    for step in steps.values():
        if step["type"] == "goto":
            step["config"]["target"] = draw(st.sampled_from(order))
    graph: dict[str, Any] = {"name": draw(WORDS), "start": order[0] if order else None,
                             "steps": {step_id: steps[step_id] for step_id in draw(st.permutations(order))}}
    if draw(st.booleans()):
        kind = draw(st.sampled_from(sorted(TRIGGER_TYPES)))
        config = {"tag": draw(WORDS)} if kind.startswith("contact_tag") else {}
        if kind == "customer_replied":
            optional(draw, config, "keywords", st.lists(WORDS, max_size=3))
        if kind == "inbound_webhook":
            optional(draw, config, "field_map", st.dictionaries(WORDS, st.sampled_from(["first_name", "email"]),
                                                                max_size=3))
        graph["trigger"] = {"type": kind, "config": config}
    if draw(st.booleans()):
        graph["settings"] = {"allow_reentry": draw(st.booleans()), "stop_on_response": draw(st.booleans())}
    if draw(st.booleans()):
        graph["schema_version"] = 1
    try:
        load_graph(json.loads(json.dumps(graph)))
    except ValidationError:
        assume(False)  # a Go To loop with no wait in it, say: the API would refuse it too
    return graph


def accepted(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph as the API stores it (defaults filled in)."""
    return load_graph(json.loads(json.dumps(graph)))


def round_trip(page, graph: dict[str, Any]) -> dict[str, Any]:
    return json.loads(page.evaluate(ROUNDTRIP, json.dumps(graph)))


# --- tests ------------------------------------------------------------------------

ANY_USERS = [1, 2, 3, JS_SAFE]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(graph=graphs(ANY_USERS))
def test_the_model_gives_back_every_graph_the_api_accepts(live_server, page, graph):
    if page.url == "about:blank":
        page.goto(f"{live_server.url}/login")  # any page of the app: the module is imported from there
    for sent in (graph, accepted(graph)):
        # Equal as JSON values; the order of an object's keys carries no meaning (and a
        # JavaScript object lists integer-like keys such as step "2" first, whatever happens).
        assert round_trip(page, sent) == sent


def test_unknown_keys_and_odd_ids_survive_the_model(live_server, page):
    page.goto(f"{live_server.url}/login")
    graph = {
        "schema_version": 1, "name": "Odd", "future_key": {"a": [1, {"b": None}]},
        "trigger": {"type": "manual", "config": {}, "extra": True}, "start": "__proto__",
        "steps": {
            "__proto__": {"type": "add_tag", "config": {"tag": "x", "later": [3, 2, 1]}, "next": "constructor",
                          "note": "kept"},
            "constructor": {"type": "if_else", "config": {"branches": [
                {"name": "b", "conditions": [{"field": "contact.tags", "op": "has_tag", "value": "v"}], "next": None},
                {"name": "a", "conditions": [{"field": "contact.email", "op": "is_empty"}], "next": None}],
                "else_next": None}},
        },
    }
    assert round_trip(page, graph) == graph


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_the_builder_page_saves_a_loaded_graph_unchanged(live_server, team, page, data):
    user_ids = [team["admin"].id, team["manager"].id, team["agent"].id]
    if db.session.scalar(select(CustomValue).where(CustomValue.account_id == team["account"].id)) is None:
        # The smallest Update Custom Value config names the key "x": the account defines it.
        db.session.add(CustomValue(account_id=team["account"].id, key="x", value=""))
        db.session.commit()
    stored = accepted(data.draw(graphs(user_ids)))
    workflow_id = make_workflow(team["account"], stored, publish=False).id
    db.session.remove()
    if "/login" not in page.url and "/workflows" not in page.url:
        login(page, live_server, "manager@acme.test", then=f"/workflows/{workflow_id}/edit")
    else:
        page.goto(f"{live_server.url}/workflows/{workflow_id}/edit")
    page.wait_for_selector("body[data-builder-state=ready]")
    with page.expect_response(lambda r: r.request.method == "PUT"
                              and r.url.endswith(f"/api/workflows/{workflow_id}")) as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    response = saved.value
    assert json.loads(response.request.post_data) == stored
    assert response.status == 200, response.text()
    assert response.json()["graph"] == stored
