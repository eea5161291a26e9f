"""builder.domain.workflows: the one path that creates, saves, publishes, duplicates and removes a
workflow, for the API, the demo data and the tests alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from builder.domain import workflows
from builder.domain.errors import Conflict, Invalid, NotFound
from builder.extensions import db
from builder.models import Workflow, WorkflowVersion


def note_flow(name: str = "Note", text: str = "hi") -> dict:
    return {"name": name, "trigger": {"type": "manual", "config": {}}, "start": "n",
            "steps": {"n": {"type": "add_note", "config": {"body": text}, "next": None}}}


def versions(wf: Workflow) -> list[int]:
    return list(db.session.scalars(select(WorkflowVersion.number).where(WorkflowVersion.workflow_id == wf.id)
                                   .order_by(WorkflowVersion.number)))


def test_create_publishes_version_one_unless_asked_for_a_draft(app, account, users):
    live = workflows.create_workflow(account.id, note_flow("Live"), author_id=users["admin"].id)
    draft = workflows.create_workflow(account.id, note_flow("Draft"), publish=False)
    db.session.commit()
    assert live.published_version.number == 1 and live.published_version.published_by_id == users["admin"].id
    assert draft.published_version_id is None and versions(draft) == [1]


def test_a_bad_graph_is_refused_naming_the_step_and_field(app, account):
    graph = note_flow()
    graph["steps"]["n"]["config"] = {}
    with pytest.raises(Invalid) as refused:
        workflows.create_workflow(account.id, graph)
    assert refused.value.status == 422 and "steps.n.config.body" in refused.value.fields
    assert refused.value.message.startswith("steps.n.config.body: ")


def test_assign_user_may_name_only_the_accounts_users(app, account, users):
    graph = {"name": "Assign", "trigger": {"type": "manual", "config": {}}, "start": "a",
             "steps": {"a": {"type": "assign_user", "config": {"user_ids": [users["agent"].id, 999_999]}}}}
    with pytest.raises(Invalid) as refused:
        workflows.create_workflow(account.id, graph)
    assert refused.value.fields == {"steps.a.config.user_ids": ["Unknown user id(s): 999999."]}


def test_every_step_that_names_users_may_name_only_the_accounts_users(app, account, users):
    from tests.factories import make_outsider

    outsider = make_outsider("agent")
    config = {"recipients": "users", "user_ids": [users["agent"].id, outsider.id], "title": "Hello"}
    graph = {"name": "Notify", "trigger": {"type": "manual", "config": {}}, "start": "n",
             "steps": {"n": {"type": "internal_notification", "config": config}}}
    with pytest.raises(Invalid) as refused:
        workflows.create_workflow(account.id, graph)
    assert refused.value.fields == {"steps.n.config.user_ids": [f"Unknown user id(s): {outsider.id}."]}


def test_save_adds_a_draft_version_and_publish_picks_one(app, account, users):
    wf = workflows.create_workflow(account.id, note_flow(text="one"))
    workflows.save_version(wf, note_flow("Renamed", text="two"), author_id=users["manager"].id)
    db.session.commit()
    assert versions(wf) == [1, 2] and wf.name == "Renamed" and wf.published_version.number == 1
    workflows.publish(wf, None, by=users["manager"].id)
    db.session.commit()
    assert wf.published_version.number == 2
    workflows.publish(wf, 1, by=users["manager"].id)
    db.session.commit()
    assert wf.published_version.number == 1
    with pytest.raises(NotFound):
        workflows.publish(wf, 3, by=users["manager"].id)


def test_duplicate_is_a_draft_copy_of_the_latest_graph(app, account):
    wf = workflows.create_workflow(account.id, note_flow("Welcome"))
    workflows.save_version(wf, note_flow("Welcome", text="newer"), author_id=None)
    copy = workflows.duplicate(wf, author_id=None)
    db.session.commit()
    assert copy.name == "Welcome (copy)" and copy.published_version_id is None
    assert copy.latest_version().graph["steps"]["n"]["config"]["body"] == "newer"
    empty = Workflow(account_id=account.id, name="Empty")
    db.session.add(empty)
    db.session.flush()
    with pytest.raises(Conflict):
        workflows.duplicate(empty, author_id=None)


def test_a_retired_workflow_leaves_the_list_and_goes_once_nobody_is_in_it(app, account):
    wf = workflows.create_workflow(account.id, note_flow())
    db.session.commit()
    workflows.retire(wf)
    db.session.commit()
    assert db.session.scalars(workflows.account_workflows(account.id)).all() == []
    assert wf.published_version_id is None
    assert workflows.remove_finished([wf.id]) == [wf.id]
    assert db.session.get(Workflow, wf.id) is None
