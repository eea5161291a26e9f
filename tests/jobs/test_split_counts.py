"""Split's per-path counts through RQ: the engine's passes count each run once on its path, in the same
transaction as its log rows, and the builder hears them live in `workflow.stats`."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from builder.domain import step_counts
from builder.extensions import db
from builder.models import ExecutionLog, StepCount
from jobqueue import enroll
from tests.factories import connect, make_contact, make_workflow, run_jobs
from tests.factories import events_by_name as by_name

# Contacts on the first path wait there; those on the second finish.
GRAPH = {"name": "Split and loop", "start": "sp", "steps": {
    "sp": {"type": "split", "config": {"paths": [
        {"name": "Texts", "percent": 50, "next": "again"},
        {"name": "Calls", "percent": 50, "next": "b"}]}},
    "again": {"type": "wait", "config": {"amount": 1, "unit": "seconds"}, "next": "tag"},
    "tag": {"type": "add_tag", "config": {"tag": "looped"}, "next": None},
    "b": {"type": "add_tag", "config": {"tag": "b"}, "next": None},
}}


def test_each_path_is_counted_once_per_run_and_published_live(app, account, users):
    wf = make_workflow(account, GRAPH)
    watcher = connect(app, users["manager"])
    assert watcher.emit("workflow.watch", {"workflow_id": wf.id}, callback=True) == {"ok": True}
    contacts = [make_contact(account) for _ in range(16)]
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)
    dealt = Counter(row.output["path"] for row in db.session.scalars(
        select(ExecutionLog).where(ExecutionLog.step_id == "sp")))
    assert set(dealt) == {"Texts", "Calls"} and sum(dealt.values()) == 16
    counters = dict(db.session.execute(select(StepCount.step_id, StepCount.passed)
                                       .where(StepCount.workflow_id == wf.id)).all())
    assert counters[step_counts.path_key("sp", 0)] == dealt["Texts"]
    assert counters[step_counts.path_key("sp", 1)] == dealt["Calls"]
    assert counters["sp"] == 16
    stats = by_name(watcher)["workflow.stats"][-1]
    assert stats["steps"]["sp"]["paths"] == {"0": dealt["Texts"], "1": dealt["Calls"]}
    assert stats["steps"]["again"]["waiting"] == dealt["Texts"]


def test_a_run_through_the_split_twice_counts_once_on_its_path(app, account):
    wf = make_workflow(account, {"name": "Loop", "start": "sp", "steps": {
        "sp": {"type": "split", "config": {"paths": [
            {"name": "A", "percent": 50, "next": "w"}, {"name": "B", "percent": 50, "next": "w"}]}},
        "w": {"type": "wait", "config": {"amount": 1, "unit": "seconds"}, "next": "back"},
        "back": {"type": "goto", "config": {"target": "sp"}},
    }})

    def row(seq: int, step: str, output: dict) -> dict:
        return {"enrollment_id": 5, "workflow_id": wf.id, "step_id": step, "step_type": "split",
                "outcome": "ok", "is_test": False, "idempotency_key": f"5:{seq}", "output": output}

    batch = [row(0, "sp", {"path": "B", "index": 1}), row(3, "sp", {"path": "B", "index": 1})]
    assert step_counts.first_passes(db.session, batch) == {(wf.id, False, "sp"): 1, (wf.id, False, "sp/1"): 1}
