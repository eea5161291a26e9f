"""Split: paths dealt by percentage from a hash of (workflow, step, contact), so the shares follow the
percentages, a contact who re-enters takes the path it took before, and every run is reproducible;
the config checks (2 to 5 paths, whole percents totalling 100, distinct names) answer 422 naming the
step and field; the log names the path and the builder counts each path. Runs go through the real
engine, SqlStore, database and RQ."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from builder.domain import step_counts
from builder.extensions import db
from builder.models import Contact, ExecutionLog
from engine.actions.split import Split, bucket, choose
from engine.context import StepContext
from engine.step import Step
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs


def split_step(*percents: int, step_id: str = "sp") -> Step:
    paths = [{"name": f"P{i}", "percent": p, "next": f"t{i}"} for i, p in enumerate(percents)]
    return Step.from_dict(step_id, {"type": "split", "config": {"paths": paths}})


@dataclass
class Run:
    workflow_id: int
    id: int = 1
    version_id: int = 1
    contact_id: int = 0
    status: str = "active"
    current_step: str | None = "sp"
    seq: int = 0
    wake_at: datetime | None = None
    is_test: bool = False
    error: str | None = None
    finished_at: datetime | None = None


@dataclass
class Person:
    id: int


def taken(step: Step, workflow_id: int, contact_id: int) -> dict[str, Any]:
    ctx = StepContext(run=Run(workflow_id, contact_id=contact_id), step=step, contact=Person(contact_id),  # type: ignore[arg-type]
                      store=None, now=datetime(2030, 1, 1), key="1:0")  # type: ignore[arg-type]
    result = Split().run(ctx)
    assert result.next == f"t{result.output['index']}"
    return result.output


@pytest.mark.parametrize("percents", [(50, 50), (20, 30, 50), (10, 20, 30, 20, 20)])
def test_the_shares_follow_the_percentages_over_many_contacts(percents):
    step = split_step(*percents)
    shares = Counter(taken(step, 7, contact_id)["index"] for contact_id in range(1, 2001))
    for index, percent in enumerate(percents):
        # The hash is fixed, so this is the same every run: within 3 points of the percentage.
        assert abs(shares[index] / 2000 * 100 - percent) < 3, (percents, shares)


def test_the_path_is_fixed_per_workflow_step_and_contact():
    step = split_step(50, 50)
    assert all(taken(step, 7, c) == taken(step, 7, c) for c in range(1, 200))
    # Another workflow, or another step of the same one, deals the same contacts afresh.
    assert [taken(step, 7, c)["index"] for c in range(1, 200)] != [taken(step, 8, c)["index"] for c in range(1, 200)]
    other = split_step(50, 50, step_id="sp2")
    assert [taken(step, 7, c)["index"] for c in range(1, 200)] != [taken(other, 7, c)["index"] for c in range(1, 200)]


def test_the_output_names_the_path():
    step = split_step(1, 99)
    out = taken(step, 7, 5)
    assert out == {"path": f"P{out['index']}", "index": out["index"]}
    assert Split.outputs == {"path": "Path taken"}


def test_walking_the_cumulative_percentages():
    paths = [{"percent": 20}, {"percent": 30}, {"percent": 50}]
    assert [choose(paths, place) for place in (0, 19, 20, 49, 50, 99)] == [0, 0, 1, 1, 2, 2]
    assert all(0 <= bucket(1, "s", c) < 100 for c in range(500))


# --- checks on save ------------------------------------------------------------------------

def graph(paths: Any) -> dict[str, Any]:
    return {"name": "Split", "start": "sp", "steps": {
        "sp": {"type": "split", "config": {"paths": paths}},
        "a": {"type": "add_tag", "config": {"tag": "a"}}}}


def path(name: str, percent: Any, nxt: str | None = None) -> dict[str, Any]:
    return {"name": name, "percent": percent, "next": nxt}


@pytest.mark.parametrize(("paths", "errors"), [
    ([path("A", 50, "a"), path("B", 40)],
     {"steps.sp.config.paths": ["The percentages add up to 90; they must total 100."]}),
    ([path("A", 50, "a"), path("a ", 50)],
     {"steps.sp.config.paths.1.name": ["Path 2 has the same name as an earlier path; give each path its own name."]}),
    ([path("A", 100, "a"), path("B", 0)],
     {"steps.sp.config.paths.1.percent": ["Must be greater than or equal to 1 and less than or equal to 100."]}),
    ([path("A", 50, "a"), path("B", 49.5)], {"steps.sp.config.paths.1.percent": ["Not a valid integer."]}),
    ([path("A", 50, "a"), path(" ", 50)], {"steps.sp.config.paths.1.name": ["Give path 2 a name."]}),
    ([path("A", 100, "a")], {"steps.sp.config.paths": ["Length must be between 2 and 5."]}),
    ([path("A", 20, "a")] + [path(f"B{i}", 16) for i in range(5)],
     {"steps.sp.config.paths": ["Length must be between 2 and 5."]}),
    ([path("A", 50, "a"), path("B", 50, "nowhere")],
     {"steps.sp.config.paths.1.next": ["Step sp points to 'nowhere', which does not exist."]}),
])
def test_a_bad_split_is_422_naming_the_step_the_field_and_the_path(as_user, paths, errors):
    resp = as_user("admin").post("/api/workflows", json=graph(paths))
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["fields"] == errors


def test_five_paths_totalling_100_save(as_user):
    paths = [path("A", 20, "a")] + [path(f"B{i}", 20) for i in range(4)]
    resp = as_user("admin").post("/api/workflows", json=graph(paths))
    assert resp.status_code == 201, resp.json


# --- through the engine, the database and RQ ---------------------------------------------------

def split_flow(*percents: int, allow_reentry: bool = False) -> dict[str, Any]:
    steps: dict[str, Any] = {"sp": {"type": "split", "config": {"paths": [
        {"name": f"Path {chr(65 + i)}", "percent": p, "next": f"t{i}"} for i, p in enumerate(percents)]}}}
    for i in range(len(percents)):
        steps[f"t{i}"] = {"type": "add_tag", "config": {"tag": f"path-{i}"}}
    return {"name": "Split test", "start": "sp", "steps": steps, "settings": {"allow_reentry": allow_reentry}}


def enroll(app, wf, contacts) -> None:
    create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(app)


def split_rows() -> list[ExecutionLog]:
    return list(db.session.scalars(select(ExecutionLog).where(ExecutionLog.step_id == "sp").order_by(ExecutionLog.id)))


def test_each_contact_goes_down_its_dealt_path_and_the_log_names_it(app, account):
    wf = make_workflow(account, split_flow(20, 30, 50))
    contacts = [make_contact(account) for _ in range(30)]
    enroll(app, wf, contacts)
    rows = split_rows()
    assert len(rows) == 30
    for row in rows:
        index = choose([{"percent": 20}, {"percent": 30}, {"percent": 50}], bucket(wf.id, "sp", row.contact_id))
        assert row.outcome == "ok"
        assert row.output == {"path": f"Path {chr(65 + index)}", "index": index, "next": f"t{index}"}
        db.session.expire_all()
        assert db.session.get(Contact, row.contact_id).tags == [f"path-{index}"]


def test_a_contact_who_enters_again_takes_the_same_path(app, account):
    wf = make_workflow(account, split_flow(50, 50, allow_reentry=True))
    contacts = [make_contact(account) for _ in range(12)]
    enroll(app, wf, contacts)
    first = {row.contact_id: row.output["index"] for row in split_rows()}
    assert set(first.values()) == {0, 1}  # both paths in use, so a re-deal would show
    enroll(app, wf, contacts)
    rows = split_rows()
    assert len(rows) == 24 and len({row.enrollment_id for row in rows}) == 24
    assert all(row.output["index"] == first[row.contact_id] for row in rows)


def test_the_builder_counts_each_path_and_the_stats_show_them(app, account, as_user):
    wf = make_workflow(account, split_flow(20, 30, 50, allow_reentry=True))
    contacts = [make_contact(account) for _ in range(20)]
    enroll(app, wf, contacts)
    enroll(app, wf, contacts[:5])  # re-entries are runs of their own, and count again
    dealt = Counter(row.output["index"] for row in split_rows())
    assert sum(dealt.values()) == 25
    stats = as_user("manager").get(f"/api/workflows/{wf.id}/stats").json["steps"]
    assert stats["sp"] == {"waiting": 0, "passed": 25, "paths": {str(i): n for i, n in sorted(dealt.items())}}
    assert "paths" not in stats["t0"]
    assert all("/" not in step_id for step_id in stats)  # the path counters are not steps
    assert as_user("manager").get(f"/api/workflows/{wf.id}/stats?test=true").json["steps"]["sp"] == {
        "waiting": 0, "passed": 0}


def test_a_long_step_id_gets_path_counters_that_fit():
    long_id = "s" * 64
    keys = {step_counts.path_key(long_id, i) for i in range(5)}
    assert len(keys) == 5 and all(len(k) <= 64 and "/" in k for k in keys)
    assert step_counts.path_key("sp", 3) == "sp/3"
