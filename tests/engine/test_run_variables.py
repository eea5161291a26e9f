"""Run variables: a later step reads an earlier step's output as {{ steps.<step id>.<field> }}.

The graph schema lets a step read only a step that runs before it on every path (branches and joins
included); runs keep only the outputs some step reads, and a step that parks keeps its final output."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select

from builder.extensions import db
from builder.models import Enrollment, Message, Note
from engine import merge, registry
from engine.graph import Graph, load_graph
from engine.registry import Action, Outcome, Result
from jobqueue import runner
from tests.engine.test_actions import enroll, flow
from tests.factories import make_contact, make_workflow, run_jobs


def sms(message: str, next_step: str | None = None) -> dict:
    return {"type": "send_sms", "config": {"message": message}, "next": next_step}


def note(body: str, next_step: str | None = None) -> dict:
    return {"type": "add_note", "config": {"body": body}, "next": next_step}


def score(amount: int, next_step: str | None = None) -> dict:
    return {"type": "modify_engagement_score", "config": {"operation": "add", "amount": amount}, "next": next_step}


def branch(field_op: tuple[str, str], yes: str | None, no: str | None) -> dict:
    field, op = field_op
    return {"type": "if_else", "config": {"branches": [
        {"name": "Yes", "conditions": [{"field": field, "op": op}], "next": yes}], "else_next": no}}


def find(value: str, found: str | None, not_found: str | None) -> dict:
    return {"type": "find_contact", "config": {"by": "email", "value": value, "found_next": found,
                                               "not_found_next": not_found}}


def errors_of(steps: dict, start: str | None = None) -> dict[str, list[str]]:
    try:
        load_graph(flow(steps, start))
    except ValidationError as exc:
        return exc.messages
    return {}


def the_run() -> Enrollment:
    db.session.expire_all()
    return db.session.scalars(select(Enrollment)).one()


# --- rendering ----------------------------------------------------------------------

class Person:
    id, first_name, last_name, email, phone, timezone = 1, "Ada", "", None, None, "UTC"
    engagement_score, custom_fields, tags = 0, {}, []


def test_steps_render_nested_values_and_missing_ones_render_empty():
    steps = {"hook": {"status": 200, "body": {"order": {"id": 42}, "items": ["a", "b"]}}}
    template = "{{ steps.hook.status }} {{ steps.hook.body.order.id }} {{ steps.hook.body['items'][1] }}|" \
               "{{ steps.hook.body.nope }}|{{ steps.other.x | default('none') }}"
    assert merge.render(template, Person(), steps=steps) == "200 42 b||none"
    assert merge.render("{{ steps.hook.status }}", Person()) == ""  # nothing kept yet
    assert merge.render_html("<b>{{ steps.hook.body.x }}</b>", Person(), steps={"hook": {"body": {"x": "<i>"}}}) \
        == "<b>&lt;i&gt;</b>"


def test_steps_stay_in_the_sandbox():
    with pytest.raises(merge.MergeFieldError):
        merge.check("{{ steps.hook.body.__class__ }}")
    with pytest.raises(merge.MergeFieldError):
        merge.check("{{ steps.hook.body.items() }}")
    # Only items are looked up, never attributes: a key called "items" is the value, not the method.
    assert merge.render("{{ steps.h.body.items }}", Person(), steps={"h": {"body": {"items": 3}}}) == "3"


# --- the graph schema: who may read whom ------------------------------------------

def test_a_step_reads_any_step_every_path_to_it_passes_through():
    steps = {
        "s1": score(5, "s2"),
        "s2": branch(("contact.email", "is_not_empty"), "yes", "no"),
        "yes": sms("yes {{ steps.s1.score }}", "join"),
        "no": sms("no {{ steps.s1.score }} {{ steps.s2.branch_name }}", "join"),
        "join": note("{{ steps.s1.score }} {{ steps.s1.before }}"),
    }
    assert errors_of(steps) == {
        "steps.no.config.message": ["steps.s2.branch_name: step s2 (If / Else) has no outputs later steps can read."]}
    steps["no"] = sms("no {{ steps.s1.score }}", "join")
    assert errors_of(steps) == {}


def test_a_step_on_one_branch_may_not_have_run_at_the_join_nor_on_the_other_branch():
    steps = {
        "s1": branch(("contact.email", "is_not_empty"), "yes", "no"),
        "yes": score(1, "join"),
        "no": sms("no {{ steps.yes.score }}", "join"),
        "join": note("{{ steps.yes.score }}"),
    }
    errors = errors_of(steps)
    assert set(errors) == {"steps.no.config.message", "steps.join.config.body"}
    [message] = errors["steps.join.config.body"]
    assert message == ("steps.yes.score: step yes (Modify Contact Engagement Score) may not have run before step join "
                       "(Add Note): not every path from the start to join passes through yes.")
    assert "step yes" in errors["steps.no.config.message"][0] and "before step no" in errors[
        "steps.no.config.message"][0]


def test_a_join_after_find_contact_reads_it_on_both_exits():
    steps = {
        "fc": find("{{ contact.email }}", "found", "join"),
        "found": note("found {{ steps.fc.contact.first_name }}", "join"),
        "join": note("{{ steps.fc.found }} {{ steps.fc.contact_id }}"),
    }
    assert errors_of(steps) == {}


def test_loops_a_step_before_the_loop_is_read_inside_it_but_not_one_after_it():
    wait = {"type": "wait", "config": {"amount": 1, "unit": "days"}, "next": "back"}
    steps = {
        "s1": score(1, "loop"),
        "loop": note("{{ steps.s1.score }} {{ steps.after.score }}", "w"),
        "w": wait,
        "back": branch(("contact.email", "is_empty"), "loop", "after"),
        "after": score(2),
    }
    errors = errors_of(steps)
    assert list(errors) == ["steps.loop.config.body"]
    assert errors["steps.loop.config.body"][0].startswith("steps.after.score: step after")


@pytest.mark.parametrize(("template", "problem"), [
    ("{{ steps.s9.score }}", "steps.s9.score: there is no step 's9' in this workflow."),
    ("{{ steps.s2.body }}", "steps.s2.body: step s2 cannot read its own output."),
    ("{{ steps.s1.nope }}", "steps.s1.nope: step s1 (Modify Contact Engagement Score) has no output 'nope'; "
                            "its outputs are score, before."),
    ("{{ steps.s1 }}", "steps.s1: name one of the outputs of step s1 (Modify Contact Engagement Score): "
                       "score, before."),
    ("{{ steps }}", "steps: name a step and one of its outputs, as in {{ steps.<step id>.<field> }}."),
])
def test_unknown_steps_fields_and_own_outputs_are_refused(template, problem):
    assert errors_of({"s1": score(1, "s2"), "s2": sms(template)}) == {"steps.s2.config.message": [problem]}


def test_references_inside_nested_and_json_templates_are_checked():
    hook = {"type": "webhook", "config": {
        "url": "https://example.com/{{ steps.later.score }}",
        "headers": [{"name": "X-Score", "value": "{{ steps.later.score }}"}],
        "body": '{"score": "{{ steps.later.score }}"}'}, "next": "later"}
    errors = errors_of({"hook": hook, "later": score(1)})
    assert set(errors) == {"steps.hook.config.url", "steps.hook.config.headers.0.value", "steps.hook.config.body"}


def test_the_graph_keeps_only_the_fields_later_steps_read():
    graph = Graph.from_dict(load_graph(flow({
        "s1": score(5, "fc"),
        "fc": find("{{ contact.email }}", "n", "n"),
        "n": note("{{ steps.s1.score }} {{ steps.fc.contact.first_name }} {{ steps.fc.contact.email }}"),
    })))
    assert graph.kept_outputs == {"s1": frozenset({"score"}), "fc": frozenset({"contact"})}
    assert Graph.from_dict(load_graph(flow({"s1": score(5)}))).kept_outputs == {}


# --- runs ---------------------------------------------------------------------------

def test_a_later_steps_text_reads_earlier_outputs_and_the_run_keeps_only_those(app, account):
    other = make_contact(account, first_name="Grace", email="grace@example.com", phone="+14155551999")
    steps = {
        "s1": score(5, "fc"),
        "fc": find("grace@example.com", "found", "lost"),
        "found": sms("{{ steps.fc.contact.first_name }} is here; score {{ steps.s1.score }}", None),
        "lost": sms("nobody", None),
    }
    wf = make_workflow(account, flow(steps))
    contact = make_contact(account, first_name="Ada", engagement_score=10)
    enroll(app, wf, [contact])
    sent = db.session.scalars(select(Message.body).where(Message.contact_id == contact.id)).all()
    assert sent == ["Grace is here; score 15"]
    run = the_run()
    assert run.status == "completed"
    # Only what is read: the score (not "before", "operation"...) and the found contact (not "found", "value").
    assert set(run.vars) == {"s1", "fc"}
    assert run.vars["s1"] == {"score": 15}
    assert set(run.vars["fc"]) == {"contact"} and run.vars["fc"]["contact"]["id"] == other.id


def test_runs_of_workflows_without_references_keep_nothing(app, account):
    wf = make_workflow(account, flow({"s1": score(5, "s2"), "s2": sms("Hi {{ contact.first_name }}")}))
    enroll(app, wf, [make_contact(account)])
    run = the_run()
    assert run.status == "completed" and run.vars is None


# A throwaway pausing type: parks with a provisional output and resumes with its final one.
class AskConfig(Schema):
    question = fields.String(load_default="")


class Ask(Action):
    type = "test_ask"
    label = "Ask (tests)"
    category = "Tests"
    schema = AskConfig
    pauses = True
    outputs = {"answer": "Answer"}

    def run(self, ctx):
        return Result(Outcome.PARKED, next=ctx.step.next, output={"answer": "not yet"})

    def resume(self, ctx, event):
        return Result.go(ctx.step.next, answer=f"said {event}")


@pytest.fixture
def ask_type():
    registry.register(Ask)
    yield
    registry.unregister(Ask.type)


def test_a_parked_step_keeps_its_final_output_for_later_steps(app, account, ask_type):
    steps = {"ask": {"type": "test_ask", "config": {}, "next": "n"}, "n": note("Answer: {{ steps.ask.answer }}")}
    wf = make_workflow(account, flow(steps))
    enroll(app, wf, [make_contact(account)])
    run = the_run()
    assert run.status == "parked" and run.vars is None  # the provisional output is not kept
    runner.resume(run.id, run.seq, "yes")
    run_jobs(app)
    run = the_run()
    assert run.status == "completed" and run.vars == {"ask": {"answer": "said yes"}}
    assert db.session.scalars(select(Note.body)).all() == ["Answer: said yes"]
