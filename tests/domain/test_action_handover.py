"""A contact's queued manual actions follow the contact to its new owner (builder.domain.handover)."""

from sqlalchemy import select

from builder.extensions import db
from builder.models import ManualAction
from jobqueue import enroll
from tests.factories import connect, drain, make_contact, make_workflow, run_jobs
from tests.factories import events_by_name as by_name

MANUAL_SMS = {"name": "Text them", "start": "m", "steps": {
    "m": {"type": "manual_sms", "config": {"message": "Hi {{ contact.first_name }}"}, "next": None}}}


def queue_one(app, account, owner) -> ManualAction:
    contact = make_contact(account, assigned_user_id=owner.id)
    wf = make_workflow(account, MANUAL_SMS)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    return db.session.scalar(select(ManualAction).where(ManualAction.contact_id == contact.id))


def test_reassigning_a_contact_hands_its_queued_actions_to_the_new_owner(app, account, users, as_user):
    action = queue_one(app, account, users["agent"])
    assert as_user("agent").post("/api/manual-actions/start", json={}).json["id"] == action.id  # claimed
    clients = {role: connect(app, users[role]) for role in ("agent", "agent2", "manager")}
    drain(*clients.values())

    resp = as_user("manager").patch(f"/api/contacts/{action.contact_id}", json={"assigned_user_id": users["agent2"].id})

    assert resp.status_code == 200
    db.session.expire_all()
    moved = db.session.get(ManualAction, action.id)
    assert moved.assignee_id == users["agent2"].id and moved.claimed_by_id is None  # the claim ended
    assert as_user("agent").get(f"/api/manual-actions/{action.id}").status_code == 404
    assert as_user("agent").get(f"/api/manual-actions/{action.id}/context").status_code == 404
    assert as_user("agent2").get(f"/api/manual-actions/{action.id}/context").status_code == 200
    assert as_user("agent2").post("/api/manual-actions/start", json={}).json["id"] == action.id
    agent, agent2, manager = (by_name(clients[r]) for r in ("agent", "agent2", "manager"))
    assert [row["id"] for row in agent["manual_action.deleted"]] == [action.id]  # it left their queue
    assert [row["assignee_id"] for row in agent2["manual_action.updated"]] == [users["agent2"].id]
    assert [row["assignee_id"] for row in manager["manual_action.updated"]] == [users["agent2"].id]


def test_an_action_a_manager_handed_to_someone_else_stays_with_them(app, account, users, as_user):
    action = queue_one(app, account, users["agent"])
    as_user("manager").patch(f"/api/manual-actions/{action.id}", json={"assignee_id": users["agent2"].id})
    # The delegate works it although the contact is not theirs.
    assert as_user("agent2").get(f"/api/manual-actions/{action.id}/context").status_code == 200

    as_user("manager").patch(f"/api/contacts/{action.contact_id}", json={"assigned_user_id": users["manager"].id})

    db.session.expire_all()
    assert db.session.get(ManualAction, action.id).assignee_id == users["agent2"].id
    assert as_user("agent2").get(f"/api/manual-actions/{action.id}/context").status_code == 200


def test_a_shared_queue_action_goes_to_the_contacts_first_owner(app, account, users, as_user):
    contact = make_contact(account)  # unassigned: its action is in the shared queue
    wf = make_workflow(account, MANUAL_SMS)
    enroll.create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)

    as_user("admin").patch(f"/api/contacts/{contact.id}", json={"assigned_user_id": users["agent"].id})

    assert as_user("agent").post("/api/manual-actions/start", json={}).json["contact_id"] == contact.id


def test_an_assign_user_step_in_a_worker_hands_the_actions_over_too(app, account, users, as_user):
    action = queue_one(app, account, users["agent"])
    listener = connect(app, users["agent"])
    drain(listener)
    reassign = make_workflow(account, {"name": "Reassign", "start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": [users["agent2"].id]}, "next": None}}})

    enroll.create_request(reassign, reassign.published_version, [action.contact_id], is_test=False)
    run_jobs(app)

    db.session.expire_all()
    assert db.session.get(ManualAction, action.id).assignee_id == users["agent2"].id
    assert as_user("agent2").get(f"/api/manual-actions/{action.id}/context").status_code == 200
    assert [row["id"] for row in by_name(listener)["manual_action.deleted"]] == [action.id]


def test_one_pass_of_assign_steps_hands_over_once_from_the_first_owner_to_the_last(app, account, users, as_user):
    """A pass saves the hand-overs of all its Assign User steps together: twice in one pass is one move."""
    actions = [queue_one(app, account, users["agent"]) for _ in range(3)]
    listener = connect(app, users["agent"])
    drain(listener)
    twice = make_workflow(account, {"name": "Twice", "start": "a", "steps": {
        "a": {"type": "assign_user", "config": {"user_ids": [users["manager"].id]}, "next": "b"},
        "b": {"type": "assign_user", "config": {"user_ids": [users["agent2"].id]}, "next": None}}})

    enroll.create_request(twice, twice.published_version, [a.contact_id for a in actions], is_test=False)
    run_jobs(app)

    db.session.expire_all()
    assert {db.session.get(ManualAction, a.id).assignee_id for a in actions} == {users["agent2"].id}
    assert sorted(row["id"] for row in by_name(listener)["manual_action.deleted"]) == sorted(a.id for a in actions)
    assert as_user("agent2").post("/api/manual-actions/start", json={}).json["id"] in {a.id for a in actions}
