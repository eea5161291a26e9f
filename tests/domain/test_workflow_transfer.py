"""Export and import without a database: the round trip keeps every workflow, whatever its steps, and an
import into an account that lacks some users still gives a valid graph and names each user it dropped."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.domain.errors import Invalid
from builder.domain.workflow_transfer import (
    FORMAT,
    Directory,
    export_document,
    import_document,
    user_fields,
)
from engine.graph import load_graph

EMAILS = {1: "ada@a.test", 2: "Bob@a.test", 3: "cy@a.test", 4: "di@a.test"}
TAGS = ["vip", "new-lead", "cold"]
KEYS = ["plan", "source"]
WHEN = datetime(2026, 11, 30, 12, 0)
TEXT = st.text(alphabet="abcdefghij XYZ.!", min_size=1, max_size=30).filter(str.strip)


def account(ids: dict[int, str]) -> Directory:
    return Directory(users={email.casefold(): uid for uid, email in ids.items()},
                     tags=frozenset(TAGS), custom_fields=frozenset(KEYS))


@st.composite
def assign(draw) -> dict[str, Any]:
    users = draw(st.lists(st.sampled_from(sorted(EMAILS)), min_size=1, max_size=4, unique=True))
    config: dict[str, Any] = {"user_ids": users, "only_unassigned": draw(st.booleans())}
    if draw(st.booleans()):
        config |= {"split": "weighted", "weights": draw(st.lists(st.integers(1, 9), min_size=len(users),
                                                                 max_size=len(users)))}
    return {"type": "assign_user", "config": config}


@st.composite
def branch(draw) -> dict[str, Any]:
    condition = draw(st.one_of(
        st.builds(lambda uid, op: {"field": "contact.assigned_user_id", "op": op, "value": uid},
                  st.sampled_from(sorted(EMAILS)), st.sampled_from(["equals", "not_equals"])),
        st.builds(lambda tag: {"field": "contact.tags", "op": "has_tag", "value": tag}, st.sampled_from(TAGS)),
        st.builds(lambda key: {"field": f"contact.custom.{key}", "op": "is_not_empty"}, st.sampled_from(KEYS)),
    ))
    return {"type": "if_else", "config": {"branches": [{"name": draw(TEXT), "conditions": [condition]}]}}


STEPS = st.one_of(
    st.builds(lambda m: {"type": "send_sms", "config": {"message": m}}, TEXT),
    assign(),
    branch(),
    st.builds(lambda t: {"type": "add_tag", "config": {"tag": t}}, st.sampled_from(TAGS)),
    st.builds(lambda t: {"type": "remove_tag", "config": {"tag": t}}, st.sampled_from(TAGS)),
    st.builds(lambda k, v: {"type": "update_contact_field", "config": {"field": f"custom.{k}", "value": v}},
              st.sampled_from(KEYS), TEXT),
    st.builds(lambda n: {"type": "wait", "config": {"amount": n, "unit": "hours"}}, st.integers(1, 48)),
    st.just({"type": "manual_call", "config": {}}),
    st.just({"type": "wait_for_reply", "config": {"timeout_amount": 2}}),
)
TRIGGERS = st.one_of(st.just({"type": "manual"}),
                     st.builds(lambda t: {"type": "contact_tag_added", "config": {"tag": t}}, st.sampled_from(TAGS)))


@st.composite
def graphs(draw) -> dict[str, Any]:
    """A valid graph: steps in a chain, each way out of a branching step leading on or ending."""
    specs = draw(st.lists(STEPS, max_size=8))
    steps: dict[str, Any] = {}
    for n, spec in enumerate(specs):
        following = f"s{n + 1}" if n + 1 < len(specs) else None
        step = {**spec, "name": f"Step {n}", "config": json.loads(json.dumps(spec["config"]))}
        if step["type"] == "if_else":
            step["config"]["branches"][0]["next"] = following
        elif step["type"] == "wait_for_reply":
            step["config"]["replied_next"] = following
        else:
            step["next"] = following
        steps[f"s{n}"] = step
    return load_graph({"name": draw(TEXT), "trigger": draw(TRIGGERS), "start": "s0" if steps else None,
                       "steps": steps, "settings": {"allow_reentry": draw(st.booleans())}})


def through_a_file(graph: dict[str, Any], emails: dict[int, str]) -> Any:
    return json.loads(json.dumps(export_document(graph["name"], graph, emails, WHEN)))


def user_ids_in(graph: dict[str, Any]) -> set[int]:
    found = set()
    for step in graph["steps"].values():
        for name in user_fields(step["type"]):
            found |= {v for v in step["config"][name] if isinstance(v, int)}
        for b in step["config"].get("branches", []):
            found |= {c["value"] for c in b["conditions"] if c["field"] == "contact.assigned_user_id"
                      and isinstance(c["value"], int)}
    return found


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_export_then_import_into_the_same_account_gives_the_workflow_back(graph):
    document = through_a_file(graph, EMAILS)
    assert document["format"] == FORMAT and document["version"] == 1
    assert not user_ids_in(document["graph"]), "no user id leaves the account"
    imported = import_document(document, account(EMAILS))
    assert imported.graph == graph
    assert imported.remapped == []


@settings(max_examples=150, deadline=None)
@given(graphs(), st.permutations(range(10, 14)))
def test_into_another_account_users_follow_their_email(graph, new_ids):
    elsewhere = {new_id: EMAILS[old].upper() for new_id, old in zip(new_ids, sorted(EMAILS), strict=True)}
    imported = import_document(through_a_file(graph, EMAILS), account(elsewhere))
    assert imported.remapped == []
    # Exported again from there, it is the same file: only the ids changed, each to the same person's.
    again = through_a_file(imported.graph, elsewhere)
    assert json.dumps(again["graph"]).lower() == json.dumps(through_a_file(graph, EMAILS)["graph"]).lower()


@settings(max_examples=150, deadline=None)
@given(graphs(), st.sets(st.sampled_from(sorted(EMAILS))))
def test_users_the_account_lacks_are_dropped_and_reported(graph, missing):
    present = {uid: email for uid, email in EMAILS.items() if uid not in missing}
    imported = import_document(through_a_file(graph, EMAILS), account(present))
    assert load_graph(imported.graph) == imported.graph  # still a valid workflow
    assert user_ids_in(imported.graph) <= set(present)
    reported = {(r.step, r.change) for r in imported.remapped}
    for step_id, step in graph["steps"].items():
        if step["type"] == "assign_user":
            lost = set(step["config"]["user_ids"]) & missing
            assert ((step_id, "user_dropped") in reported) == bool(lost)
            emptied = lost == set(step["config"]["user_ids"])
            assert ((step_id, "step_unassigned") in reported) == emptied
            if emptied:  # the step passes contacts on unassigned, where the original went
                kept = imported.graph["steps"][step_id]
                assert (kept["type"], kept["config"].get("target")) in (("goto", step["next"]), ("end", None))
            elif step["config"].get("weights"):
                weights = dict(zip(step["config"]["user_ids"], step["config"]["weights"], strict=True))
                mapped = imported.graph["steps"][step_id]["config"]
                assert mapped["weights"] == [weights[uid] for uid in mapped["user_ids"]]
        for b in step["config"].get("branches", []):
            for c in b["conditions"]:
                if c["field"] == "contact.assigned_user_id" and c["value"] in missing:
                    assert (step_id, "user_condition_unmatched") in reported


def test_tags_and_custom_fields_the_account_does_not_have_are_reported():
    graph = load_graph({"name": "New names", "trigger": {"type": "contact_tag_added", "config": {"tag": "webinar"}},
                        "start": "a", "steps": {
                            "a": {"type": "add_tag", "config": {"tag": "VIP"}, "next": "b"},
                            "b": {"type": "update_contact_field", "config": {"field": "custom.budget", "value": "1"},
                                  "next": "c"},
                            "c": {"type": "add_tag", "config": {"tag": "{{ contact.first_name }}"}, "next": None}}})
    imported = import_document(through_a_file(graph, {}), account({}))
    assert [(r.step, r.field, r.change) for r in imported.remapped] == [
        (None, "trigger.config.tag", "new_tag"),
        ("b", "config.field", "new_custom_field"),
    ]  # VIP is known (tags compare without case); a merge field is rendered per contact


@pytest.mark.parametrize(("document", "field"), [
    ([], "_schema"),
    ({"format": "something.else", "version": 1, "graph": {}}, "format"),
    ({"format": FORMAT, "version": 2, "graph": {}}, "version"),
    ({"format": FORMAT, "version": 1}, "graph"),
    ({"format": FORMAT, "version": 1, "name": "", "graph": {}}, "name"),
    ({"format": FORMAT, "version": 1, "name": "X", "graph": {"start": "a", "steps": {
        "a": {"type": "send_sms", "config": {}, "next": None}}}}, "graph.steps.a.config.message"),
    ({"format": FORMAT, "version": 1, "name": "X", "graph": {"start": "a", "steps": {
        "a": {"type": "teleport", "config": {}, "next": None}}}}, "graph.steps.a.type"),
    ({"format": FORMAT, "version": 1, "name": "X", "graph": {"start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": "everyone"}, "next": None}}}},
     "graph.steps.a.config.user_ids"),
])
def test_a_bad_file_is_refused_naming_the_step_and_field(document, field):
    with pytest.raises(Invalid) as refused:
        import_document(document, account(EMAILS))
    assert field in refused.value.fields
    assert refused.value.status == 422


def test_ids_in_a_hand_written_file_are_not_taken_for_users():
    """Ids mean nothing in another account, even when one happens to exist here: only emails are matched."""
    document = {"format": FORMAT, "version": 1, "name": "By hand", "graph": {"start": "a", "steps": {
        "a": {"type": "assign_user", "name": "x" * 200, "config": {"user_ids": [1]}, "next": None}}}}
    imported = import_document(document, account(EMAILS))
    assert [(r.step, r.change) for r in imported.remapped] == [("a", "user_dropped"), ("a", "step_unassigned")]
    assert "not an email" in imported.remapped[0].message
    step = imported.graph["steps"]["a"]
    assert step["type"] == "end" and len(step["name"]) == 200 and step["name"].endswith("(no users: skipped)")
