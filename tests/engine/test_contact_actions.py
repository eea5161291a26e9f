"""The contact actions (create, find, unassign, DND, delete, engagement score), driven through the real
engine, SqlStore, database and RQ."""

import pytest
from sqlalchemy import select

from builder.domain import custom_fields
from builder.extensions import db
from builder.models import Account, Contact, Enrollment, ManualAction, utcnow
from engine.actions.modify_engagement_score import SCORE_LIMIT
from tests.engine.test_actions import count, enroll, flow, fresh, logs, runs
from tests.factories import ApiClient, connect, drain, make_contact, make_workflow, received, run_jobs

OTHER_PHONE = "+14155552000"


def contacts() -> list[Contact]:
    return list(db.session.scalars(select(Contact).order_by(Contact.id)))


def then_tag(step: dict, tag: str = "after") -> dict:
    """A step followed by an add_tag step "t": the run goes on after it."""
    return {"s": {**step, "next": "t"}, "t": {"type": "add_tag", "config": {"tag": tag}}}


def other_account() -> Account:
    other = Account(name="Other Co")
    db.session.add(other)
    db.session.commit()
    return other


def define_field(account: Account, key: str, kind: str = "text") -> None:
    custom_fields.create_field(account.id, {"key": key, "label": key.title(), "type": kind})
    db.session.commit()


# --- create_contact ----------------------------------------------------------------------------

def create_step(**config) -> dict:
    return {"type": "create_contact", "config": config}


def test_create_contact_from_merge_values(app, account):
    wf = make_workflow(account, flow(then_tag(create_step(
        first_name="{{ contact.custom.partner_first }}", last_name="Referral",
        phone="{{ contact.custom.partner_phone }}", email="{{ contact.custom.partner_email }}",
        custom_fields=[{"field": "custom.referred_by", "value": "{{ contact.name }}"}]))))
    referrer = make_contact(account, first_name="Ada", last_name="Lovelace", custom_fields={
        "partner_first": "Charles", "partner_phone": "(202) 555-0123", "partner_email": "charles@example.com"})
    enroll(app, wf, [referrer])
    new = contacts()[-1]
    assert new.id != referrer.id and new.account_id == account.id and new.is_test is False
    assert (new.first_name, new.last_name, new.phone, new.email) == (
        "Charles", "Referral", "+12025550123", "charles@example.com")  # the phone in E.164
    assert new.custom_fields == {"referred_by": "Ada Lovelace"}
    row = logs(step_id="s")[0]
    assert row.outcome == "ok" and row.output["action"] == "created" and row.output["contact_id"] == new.id
    assert row.output["contact"]["phone"] == "+12025550123"
    assert row.output["contact"]["custom_fields"] == {"referred_by": "Ada Lovelace"}
    assert fresh(referrer).tags == ["after"] and runs()[0].status == "completed"


def test_the_new_contact_starts_contact_created_workflows_but_the_run_never_loops(app, account, users):
    """A "contact created" workflow that creates contacts: the new contact goes through it too (its
    own run finds nothing to create), and the contact whose run created it is not enrolled again."""
    step = create_step(phone="{{ contact.custom.referral_phone }}", first_name="Friend of {{ contact.first_name }}")
    graph = {**flow({"s": step}), "trigger": {"type": "contact_created", "config": {}}}
    wf = make_workflow(account, graph)
    api = ApiClient(app.test_client(), users["admin"])
    resp = api.post("/api/contacts", json={"first_name": "Ada", "phone": "+14155551000",
                                           "custom_fields": {"referral_phone": OTHER_PHONE}})
    assert resp.status_code == 201
    run_jobs(app)
    ada, friend = contacts()
    assert (friend.first_name, friend.phone) == ("Friend of Ada", OTHER_PHONE)
    by_contact = {r.contact_id: r for r in runs()}
    assert set(by_contact) == {ada.id, friend.id} and all(r.workflow_id == wf.id for r in runs())
    assert {r.status for r in runs()} == {"completed"}
    friend_row = logs(contact_id=friend.id)[0]
    assert friend_row.outcome == "skipped" and "phone and email rendered empty" in friend_row.output["reason"]


def test_an_existing_contact_is_updated_and_the_runs_contact_is_not_enrolled_again(app, account):
    wf = make_workflow(account, flow(then_tag(create_step(
        phone="{{ contact.phone }}", last_name="Byron", first_name="",
        custom_fields=[{"field": "custom.source", "value": "workflow"}]))))
    ada = make_contact(account, first_name="Ada", custom_fields={"plan": "gold"})
    enroll(app, wf, [ada])
    assert [c.id for c in contacts()] == [ada.id]  # no duplicate
    ada = fresh(ada)
    assert (ada.first_name, ada.last_name) == ("Ada", "Byron")  # an empty value never wipes a field
    assert ada.custom_fields == {"plan": "gold", "source": "workflow"}
    row = logs(step_id="s")[0]
    assert (row.outcome, row.output["action"], row.output["matched_by"]) == ("ok", "updated", "phone")
    assert row.output["contact_id"] == ada.id
    assert count(Enrollment) == 1 and runs()[0].status == "completed"


def test_an_existing_contact_is_left_alone_when_configured(app, account):
    wf = make_workflow(account, flow(then_tag(create_step(
        email="{{ contact.custom.partner }}", first_name="New name", if_exists="skip"))))
    existing = make_contact(account, first_name="Old name", phone=OTHER_PHONE, email="Partner@Example.com")
    runner = make_contact(account, custom_fields={"partner": "partner@example.COM"})  # email in any case
    enroll(app, wf, [runner])
    assert len(contacts()) == 2 and fresh(existing).first_name == "Old name"
    row = logs(step_id="s")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "a contact with this email exists; left as it is"
    assert row.output["contact_id"] == existing.id and fresh(runner).tags == ["after"]


def test_deleted_and_other_accounts_contacts_are_never_matched(app, account):
    wf = make_workflow(account, flow({"s": create_step(phone=OTHER_PHONE, first_name="Fresh")}))
    gone = make_contact(account, phone=OTHER_PHONE)
    gone.deleted_at = utcnow()
    make_contact(other_account(), phone=OTHER_PHONE)
    db.session.commit()
    enroll(app, wf, [make_contact(account)])
    row = logs(step_id="s")[0]
    assert row.output["action"] == "created"
    created = db.session.get(Contact, row.output["contact_id"])
    assert created.first_name == "Fresh" and created.account_id == account.id and created.deleted_at is None


@pytest.mark.parametrize("config, fields, reason", [
    ({"phone": "{{ contact.custom.partner_phone }}"}, {"partner_phone": "12345"}, "phone '12345':"),
    ({"phone": "{{ contact.custom.partner_phone }}"}, {"partner_phone": "call me"}, "does not look like a phone"),
    ({"phone": "{{ contact.custom.partner_phone }}"}, {}, "phone and email rendered empty"),
    ({"email": "{{ contact.custom.partner_email }}"}, {"partner_email": "not-an-email"}, "not a valid email"),
    ({"phone": OTHER_PHONE, "first_name": "{{ contact.custom.long }}"}, {"long": "x" * 101}, "longer than 100"),
])
def test_values_that_cannot_make_a_contact_are_skipped_with_the_reason(app, account, config, fields, reason):
    wf = make_workflow(account, flow(then_tag(create_step(**config))))
    runner = make_contact(account, custom_fields=fields)
    enroll(app, wf, [runner])
    assert [c.id for c in contacts()] == [runner.id]
    row = logs(step_id="s")[0]
    assert row.outcome == "skipped" and reason in row.output["reason"]
    assert fresh(runner).tags == ["after"] and runs()[0].status == "completed"


def test_custom_values_are_checked_against_the_accounts_fields(app, account):
    define_field(account, "budget", "number")
    wf = make_workflow(account, flow(then_tag(create_step(
        phone=OTHER_PHONE, custom_fields=[{"field": "custom.budget", "value": "{{ contact.first_name }}"}]))))
    enroll(app, wf, [make_contact(account, first_name="lots")])
    row = logs(step_id="s")[0]
    assert row.outcome == "skipped" and row.output["reason"].startswith("custom_fields.budget:")
    assert len(contacts()) == 1

    ok = make_workflow(account, flow({"s": create_step(
        phone=OTHER_PHONE, custom_fields=[{"field": "custom.budget", "value": "1500"}])}))
    enroll(app, ok, [contacts()[0]])
    assert contacts()[-1].custom_fields == {"budget": 1500}  # a number, as the field's type says


def test_a_test_run_creates_a_test_contact_that_starts_no_live_workflow(app, account):
    make_workflow(account, {**flow({"w": {"type": "add_tag", "config": {"tag": "welcomed"}}}),
                            "trigger": {"type": "contact_created", "config": {}}})
    wf = make_workflow(account, flow({"s": create_step(phone=OTHER_PHONE)}), publish=False)
    enroll(app, wf, [make_contact(account)], is_test=True, version=wf.latest_version())
    created = contacts()[-1]
    assert created.phone == OTHER_PHONE and created.is_test and created.tags == []
    assert count(Enrollment) == 1


def test_a_live_run_starts_contact_created_workflows_for_the_new_contact(app, account):
    welcome = make_workflow(account, {**flow({"w": {"type": "add_tag", "config": {"tag": "welcomed"}}}),
                                      "trigger": {"type": "contact_created", "config": {}}})
    wf = make_workflow(account, flow({"s": create_step(phone=OTHER_PHONE)}))
    runner = make_contact(account)
    enroll(app, wf, [runner])
    created = contacts()[-1]
    assert created.tags == ["welcomed"] and fresh(runner).tags == []
    assert [(r.workflow_id, r.contact_id) for r in runs() if r.workflow_id == welcome.id] == [(welcome.id, created.id)]


# --- find_contact ------------------------------------------------------------------------------

def find_flow(**config) -> dict:
    return flow({
        "f": {"type": "find_contact", "config": {**config, "found_next": "yes", "not_found_next": "no"}},
        "yes": {"type": "add_tag", "config": {"tag": "found"}},
        "no": {"type": "add_tag", "config": {"tag": "not-found"}},
    })


def test_find_by_phone_written_any_way(app, account):
    wf = make_workflow(account, find_flow(by="phone", value="{{ contact.custom.partner }}"))
    partner = make_contact(account, first_name="Grace", phone=OTHER_PHONE, custom_fields={"team": "navy"})
    seeker = make_contact(account, custom_fields={"partner": "(415) 555-2000"})
    lonely = make_contact(account, custom_fields={"partner": "(415) 555-9999"})
    enroll(app, wf, [seeker, lonely])
    assert fresh(seeker).tags == ["found"] and fresh(lonely).tags == ["not-found"]
    found = logs(contact_id=seeker.id)[0].output
    assert found["found"] is True and found["contact_id"] == partner.id and found["next"] == "yes"
    assert found["contact"]["first_name"] == "Grace" and found["contact"]["custom_fields"] == {"team": "navy"}
    missing = logs(contact_id=lonely.id)[0].output
    assert missing["found"] is False and missing["reason"] == "no contact has phone +14155559999"


def test_find_by_email_ignores_case_and_skips_deleted_and_other_accounts(app, account):
    wf = make_workflow(account, find_flow(by="email", value="{{ contact.custom.partner }}"))
    make_contact(other_account(), email="twin@example.com")
    gone = make_contact(account, email="gone@example.com")
    gone.deleted_at = utcnow()
    db.session.commit()
    twin = make_contact(account, phone=OTHER_PHONE, email="Twin@Example.com")
    make_contact(account, email="twin@example.com")  # a newer match: the oldest wins
    a, b = (make_contact(account, custom_fields={"partner": p}) for p in ("TWIN@example.com", "gone@example.com"))
    enroll(app, wf, [a, b])
    assert logs(contact_id=a.id)[0].output["contact_id"] == twin.id
    assert fresh(b).tags == ["not-found"]


def test_find_by_custom_field_text_or_number(app, account):
    wf = make_workflow(account, find_flow(by="custom_field", custom_field="custom.member_id",
                                          value="{{ contact.custom.looking_for }}"))
    text = make_contact(account, phone=OTHER_PHONE, custom_fields={"member_id": "A-17"})
    number = make_contact(account, phone="+14155553000", custom_fields={"member_id": 42})
    seekers = [make_contact(account, custom_fields={"looking_for": v}) for v in ("a-17", "42", "43")]
    enroll(app, wf, seekers)
    outputs = [logs(contact_id=s.id)[0].output for s in seekers]
    assert [o.get("contact_id") for o in outputs] == [text.id, number.id, None]
    assert [fresh(s).tags for s in seekers] == [["found"], ["found"], ["not-found"]]


def test_a_value_that_cannot_be_a_phone_goes_down_not_found_with_the_reason(app, account):
    wf = make_workflow(account, find_flow(by="phone", value="{{ contact.custom.partner }}"))
    seekers = [make_contact(account, custom_fields={"partner": "nope"}), make_contact(account)]
    enroll(app, wf, seekers)
    assert [fresh(s).tags for s in seekers] == [["not-found"], ["not-found"]]
    assert "cannot be a phone value" in logs(contact_id=seekers[0].id)[0].output["reason"]
    assert logs(contact_id=seekers[1].id)[0].output["reason"] == "the value to look for rendered empty"


# --- remove_assigned_user ------------------------------------------------------------------------

def test_remove_assigned_user_and_the_queued_actions_follow(app, account, users):
    manual = make_workflow(account, flow({"m": {"type": "manual_call", "config": {}}}))
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    enroll(app, manual, [contact])
    action = db.session.scalar(select(ManualAction))
    assert action.assignee_id == users["agent"].id
    agent = connect(app, users["agent"])
    drain(agent)
    wf = make_workflow(account, flow(then_tag({"type": "remove_assigned_user", "config": {}})))
    unassigned = make_contact(account)
    enroll(app, wf, [contact, unassigned])
    assert fresh(contact).assigned_user_id is None and fresh(action).assignee_id is None
    assert logs(contact_id=contact.id, step_id="s")[0].output == {"former_user_id": users["agent"].id, "next": "t"}
    row = logs(contact_id=unassigned.id, step_id="s")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "contact has no assigned user"
    assert fresh(unassigned).tags == ["after"]
    # The former assignee's queue loses the action, as when a person unassigns the contact.
    assert [e["id"] for e in received(agent, "manual_action.deleted")] == [action.id]


# --- set_dnd -----------------------------------------------------------------------------------------

def dnd(contact) -> tuple[bool, bool, bool]:
    contact = fresh(contact)
    return contact.dnd_sms, contact.dnd_call, contact.dnd_email


def test_set_dnd_per_channel_and_for_all(app, account):
    email_on = make_workflow(account, flow({"s": {"type": "set_dnd", "config": {"channel": "email", "dnd": "on"}}}))
    all_off = make_workflow(account, flow({"s": {"type": "set_dnd", "config": {"channel": "all", "dnd": "off"}}}))
    contact = make_contact(account, dnd_call=True)
    enroll(app, email_on, [contact])
    assert dnd(contact) == (False, True, True)
    assert logs()[0].output == {"channel": "email", "dnd": "on", "changed": ["dnd_email"]}
    enroll(app, all_off, [contact])
    assert dnd(contact) == (False, False, False)
    assert logs()[-1].output["changed"] == ["dnd_call", "dnd_email"]


def test_set_dnd_already_set_is_skipped(app, account):
    wf = make_workflow(account, flow(then_tag({"type": "set_dnd", "config": {"channel": "sms", "dnd": "on"}})))
    contact = make_contact(account, dnd_sms=True)
    enroll(app, wf, [contact])
    row = logs(step_id="s")[0]
    assert row.outcome == "skipped" and row.output["reason"] == "DND is already on for SMS"
    assert fresh(contact).tags == ["after"]


def test_sms_dnd_set_by_a_step_holds_back_the_next_sms(app, account):
    wf = make_workflow(account, flow({
        "s": {"type": "set_dnd", "config": {"channel": "sms"}, "next": "m"},
        "m": {"type": "send_sms", "config": {"message": "Hello"}}}))
    enroll(app, wf, [make_contact(account)])
    assert logs(step_id="m")[0].output["reason"] == "contact has SMS do-not-disturb on"


def test_open_pages_hear_the_dnd_change(app, account, users):
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    agent, other = connect(app, users["agent"]), connect(app, users["agent2"])
    for client in (agent, other):
        client.emit("contact.watch", {"contact_id": contact.id}, callback=True)
    drain(agent, other)
    wf = make_workflow(account, flow({"s": {"type": "set_dnd", "config": {"channel": "call", "dnd": "on"}}}))
    enroll(app, wf, [contact])
    (event,) = received(agent, "contact.updated")
    assert (event["id"], event["dnd_call"], event["dnd_sms"], event["dnd_email"]) == (contact.id, True, False, False)
    assert received(other, "contact.updated") == []


# --- delete_contact --------------------------------------------------------------------------------

def test_delete_contact_ends_its_runs_and_empties_its_queue(app, account, users):
    parked = make_workflow(account, flow({"m": {"type": "manual_call", "config": {}}}))
    waiting = make_workflow(account, flow({"w": {"type": "wait", "config": {"amount": 1, "unit": "days"}}}))
    contact = make_contact(account, assigned_user_id=users["agent"].id)
    bystander = make_contact(account, phone=OTHER_PHONE, assigned_user_id=users["agent"].id)
    enroll(app, parked, [contact, bystander])
    enroll(app, waiting, [contact])
    agent = connect(app, users["agent"])
    drain(agent)
    wf = make_workflow(account, flow({"d": {"type": "delete_contact", "config": {}}}))
    enroll(app, wf, [contact])
    run_jobs(app)  # the woken runs see the contact is gone

    assert fresh(contact).deleted_at is not None and fresh(bystander).deleted_at is None
    row = logs(workflow_id=wf.id)[0]
    assert row.outcome == "ended" and row.output["reason"] == "the contact was deleted; the workflow ends here"
    statuses = {(r.workflow_id, r.contact_id): r.status for r in runs()}
    assert statuses == {(wf.id, contact.id): "completed", (parked.id, contact.id): "cancelled",
                        (waiting.id, contact.id): "cancelled", (parked.id, bystander.id): "parked"}
    actions = {a.contact_id: a.status for a in db.session.scalars(select(ManualAction))}
    assert actions == {contact.id: "deleted", bystander.id: "queued"}
    deleted = db.session.scalar(select(ManualAction.id).where(ManualAction.contact_id == contact.id))
    assert [e["id"] for e in received(agent, "manual_action.deleted")] == [deleted]


def test_a_deleted_contact_is_never_found_again(app, account):
    wf = make_workflow(account, flow({"d": {"type": "delete_contact", "config": {}}}))
    contact = make_contact(account, phone=OTHER_PHONE)
    enroll(app, wf, [contact])
    finder = make_workflow(account, find_flow(by="phone", value=OTHER_PHONE))
    seeker = make_contact(account)
    enroll(app, finder, [seeker])
    assert fresh(seeker).tags == ["not-found"]


# --- modify_engagement_score -------------------------------------------------------------------------

def score_step(operation: str, amount: int, next_step: str | None = None) -> dict:
    return {"type": "modify_engagement_score", "config": {"operation": operation, "amount": amount},
            "next": next_step}


def test_add_subtract_and_set_the_score_then_branch_on_it(app, account):
    wf = make_workflow(account, flow({
        "add": score_step("add", 10, "sub"),
        "sub": score_step("subtract", 3, "check"),
        "check": {"type": "if_else", "config": {"branches": [{"name": "Hot", "conditions": [
            {"field": "contact.engagement_score", "op": "greater_than", "value": 5}], "next": "hot"}],
            "else_next": None}},
        "hot": {"type": "add_tag", "config": {"tag": "hot"}},
    }))
    warm, cold = make_contact(account), make_contact(account, engagement_score=-10)
    enroll(app, wf, [warm, cold])
    assert (fresh(warm).engagement_score, fresh(warm).tags) == (7, ["hot"])
    assert (fresh(cold).engagement_score, fresh(cold).tags) == (-3, [])  # scores may go below zero
    assert logs(contact_id=warm.id, step_id="sub")[0].output == {
        "operation": "subtract", "amount": 3, "before": 10, "score": 7, "next": "check"}
    reset = make_workflow(account, flow({"s": score_step("set", 0)}))
    enroll(app, reset, [warm])
    assert fresh(warm).engagement_score == 0


def test_a_score_that_does_not_move_is_skipped_and_the_score_stays_in_bounds(app, account):
    wf = make_workflow(account, flow({"s": score_step("set", 4)}))
    same = make_contact(account, engagement_score=4)
    enroll(app, wf, [same])
    assert logs()[0].outcome == "skipped" and logs()[0].output["reason"] == "the score stays 4"
    top = make_workflow(account, flow({"s": score_step("add", 1_000_000)}))
    high = make_contact(account, engagement_score=SCORE_LIMIT - 5)
    enroll(app, top, [high])
    assert fresh(high).engagement_score == SCORE_LIMIT
