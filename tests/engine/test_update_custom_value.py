"""Custom values in runs: {{ custom_values.<key> }} rendered in messages, and the Update Custom Value step,
driven through the real engine, SqlStore, database and RQ."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from builder.extensions import db
from builder.models import Account, CustomValue, Message
from engine import merge
from engine.actions.update_custom_value import UpdateCustomValueConfig
from engine.graph import flatten, load_graph
from tests.engine.test_actions import enroll, flow, logs, runs
from tests.engine.test_merge import contact
from tests.factories import make_contact, make_workflow


def define(account: Account, **values: str) -> None:
    for key, value in values.items():
        db.session.add(CustomValue(account_id=account.id, key=key, value=value))
    db.session.commit()


def stored(account: Account) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(select(CustomValue.key, CustomValue.value).where(CustomValue.account_id == account.id))
    return {key: value for key, value in rows}


def bodies() -> list[str]:
    return list(db.session.scalars(select(Message.body).order_by(Message.id)))


def sms(message: str, next_step: str | None = None) -> dict:
    return {"type": "send_sms", "config": {"message": message}, "next": next_step}


def update(key: str, value: str, next_step: str | None = None) -> dict:
    return {"type": "update_custom_value", "config": {"key": key, "value": value}, "next": next_step}


def test_an_sms_renders_the_accounts_custom_values(app, account):
    define(account, office_address="1 Main St", offer="10% off")
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    define(other, offer="nothing for you")
    wf = make_workflow(account, flow({"s": sms(
        "Hi {{ contact.first_name }}, {{ custom_values.offer | upper }} at {{ custom_values['office_address'] }}")}))
    enroll(app, wf, [make_contact(account, first_name="Ada", phone="+12025550123")])
    assert bodies() == ["Hi Ada, 10% OFF at 1 Main St"]


def test_the_step_sets_a_value_that_later_steps_and_other_runs_read(app, account):
    define(account, offer="10% off", promo_code="SPRING")
    wf = make_workflow(account, flow({
        "before": sms("Old offer: {{ custom_values.offer }}", "set"),
        "set": update("offer", "{{ custom_values.promo_code }} for {{ contact.first_name }}", "after"),
        "after": sms("New offer: {{ custom_values.offer }}"),
    }))
    enroll(app, wf, [make_contact(account, first_name="Ada", phone="+12025550123")])
    assert bodies() == ["Old offer: 10% off", "New offer: SPRING for Ada"]
    assert stored(account) == {"offer": "SPRING for Ada", "promo_code": "SPRING"}
    row = logs(step_id="set")[0]
    assert row.outcome == "ok"
    assert {k: row.output[k] for k in ("key", "value", "previous")} == {
        "key": "offer", "value": "SPRING for Ada", "previous": "10% off"}
    assert runs()[0].status == "completed"
    # A later run (another contact, another pass) reads the value the first one set.
    reader = make_workflow(account, flow({"s": sms("Today: {{ custom_values.offer }}")}))
    enroll(app, reader, [make_contact(account, first_name="Bo", phone="+12025550124")])
    assert bodies()[-1] == "Today: SPRING for Ada"
    # The step was written by nobody: updated_by is cleared.
    assert db.session.scalar(select(CustomValue.updated_by_id).where(CustomValue.key == "offer")) is None


def test_later_steps_read_the_steps_output(app, account):
    define(account, offer="old")
    wf = make_workflow(account, flow({
        "set": update("offer", "new", "say"),
        "say": sms("{{ steps.set.previous }} -> {{ steps.set.value }}"),
    }))
    enroll(app, wf, [make_contact(account, phone="+12025550123")])
    assert bodies() == ["old -> new"]


def test_runs_in_one_pass_each_see_the_value_the_one_before_set(app, account):
    define(account, counter="start")
    wf = make_workflow(account, flow({"set": update("counter", "{{ custom_values.counter }}+")}))
    enroll(app, wf, [make_contact(account, phone=f"+1202555012{n}") for n in range(3)])
    assert stored(account) == {"counter": "start+++"}
    assert sorted(row.output["previous"] for row in logs(step_id="set")) == ["start", "start+", "start++"]


def test_a_value_deleted_since_the_version_was_saved_is_skipped_with_the_reason(app, account):
    define(account, offer="old")
    wf = make_workflow(account, flow({"set": update("offer", "new", "t"),
                                      "t": {"type": "add_tag", "config": {"tag": "after"}}}))
    db.session.execute(db.delete(CustomValue))
    db.session.commit()
    enroll(app, wf, [make_contact(account, phone="+12025550123")])
    row = logs(step_id="set")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "the account has no custom value 'offer'"
    assert stored(account) == {} and runs()[0].status == "completed"


def test_a_value_too_long_after_merge_fields_is_skipped(app, account):
    define(account, offer="old", long="x" * 1500)
    wf = make_workflow(account, flow({"set": update("offer", "{{ custom_values.long }}{{ custom_values.long }}")}))
    enroll(app, wf, [make_contact(account, phone="+12025550123")])
    row = logs(step_id="set")[0]
    assert row.outcome == "skipped" and "2000 characters" in row.output["reason"]
    assert stored(account)["offer"] == "old"


def test_the_config_schema_names_step_and_field():
    graph = {"name": "x", "start": "set", "steps": {"set": {"type": "update_custom_value",
                                                            "config": {"key": "Bad Key", "value": "{{ nope }}"}}}}
    with pytest.raises(ValidationError) as caught:
        load_graph(graph)
    errors = flatten(caught.value.messages)
    assert set(errors) == {"steps.set.config.key", "steps.set.config.value"}
    assert "Settings > Custom values" in errors["steps.set.config.key"][0]
    assert "unknown merge field 'nope'" in errors["steps.set.config.value"][0]
    assert set(UpdateCustomValueConfig().validate({})) == {"key", "value"}
    assert UpdateCustomValueConfig().validate({"key": "offer", "value": "x" * 2001}) == {
        "value": ["Longer than maximum length 2000."]}


def test_merge_renders_custom_values_in_the_sandbox_and_escapes_them_in_html():
    ann = contact(first_name="Ann")
    values = {"offer": "<b>10% off</b>", "items": "kept"}
    assert merge.render("{{ custom_values.offer }} {{ custom_values.items }} {{ custom_values.gone }}.", ann,
                        custom_values=values) == "<b>10% off</b> kept ."
    assert merge.render_html("<p>{{ custom_values.offer }}</p>", ann, custom_values=values) == (
        "<p>&lt;b&gt;10% off&lt;/b&gt;</p>")
    assert merge.render("{{ custom_values.offer | default('none') }}", ann) == "none"  # no values given
    with pytest.raises(merge.MergeFieldError):
        merge.check("{{ custom_values.offer.__class__ }}")
