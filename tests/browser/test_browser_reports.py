"""The Reports page in a real browser: charts drawn by the vendored Chart.js, numbers beside them,
and the day-based reports following completions live."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Account, Contact, ManualAction, User, utcnow
from jobqueue import enroll
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import make_workflow, run_jobs, token_for


def seed(live: LiveServer, team) -> int:
    """Two calls completed by the agent and one SMS by agent 2 a minute ago (today wherever the browser is),
    and a workflow that queued a Manual SMS for each of two contacts; returns one queued action's id."""
    account = db.session.get(Account, team["account"].id)
    contacts = [Contact(account_id=account.id, first_name=name, phone="+14155551000") for name in ("Grace", "Ada")]
    db.session.add_all(contacts)
    db.session.flush()
    when = utcnow() - timedelta(minutes=1)
    for who, kind, outcome in (("agent", "call", "interested"), ("agent", "call", "no_answer"),
                               ("agent2", "sms", None)):
        db.session.add(ManualAction(account_id=account.id, type=kind, status="completed",
                                    contact_id=contacts[0].id, assignee_id=team[who].id,
                                    completed_by_id=team[who].id, outcome=outcome, completed_at=when))
    db.session.commit()
    graph = {"name": "<b>Follow</b> up", "start": "assign", "steps": {
        "assign": {"type": "assign_user", "name": "Give to Alex", "config": {"user_ids": [team["agent"].id]},
                   "next": "sms"},
        "sms": {"type": "manual_sms", "name": "Say hi", "config": {"message": "Hi"}, "next": None}}}
    wf = make_workflow(account, graph)
    enroll.create_request(wf, wf.published_version, [c.id for c in contacts], is_test=False)
    run_jobs(live.app)
    queued = db.session.scalar(select(ManualAction.id).where(ManualAction.status == "queued").limit(1))
    db.session.remove()  # end the read: SQLite's write lock must not outlive it
    return queued


def rows(page: Page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"#{table} tbody tr",
                                     "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))")


def charted(page: Page, canvas: str) -> float | None:
    """The sum of what Chart.js drew on the canvas (None: no chart there)."""
    return page.evaluate("""(id) => {
      const chart = window.Chart.getChart(document.getElementById(id));
      return chart ? chart.data.datasets.flatMap((d) => d.data).reduce((a, b) => a + b, 0) : null;
    }""", canvas)


def test_a_manager_sees_the_charts_and_their_numbers_live(page: Page, live_server: LiveServer, team):
    queued = seed(live_server, team)
    login(page, live_server, team["manager"].email, then="/reports")
    expect(page.locator("body")).to_have_attribute("data-reports-state", "ready")
    assert charted(page, "calls-chart") == 2 and charted(page, "actions-chart") == 3
    assert rows(page, "calls-outcomes") == [["Interested", "1"], ["No answer", "1"], ["Total", "2"]]
    assert rows(page, "actions-agents") == [["Alex Agent", "2", "0", "2"], ["Sam Agent", "0", "1", "1"]]
    [today] = rows(page, "actions-days")
    assert today[1:] == ["2", "1", "3"]
    # The funnel of the only workflow: both contacts passed the first step; none the waiting SMS yet.
    expect(page.locator("#funnel-workflow option")).to_have_text("<b>Follow</b> up")  # as text, not markup
    expect(page.locator("#funnel-steps tbody tr")).to_have_count(2)
    assert rows(page, "funnel-steps") == [["Give to Alex", "2", "100%"], ["Say hi", "0", "0%"]]
    assert charted(page, "funnel-chart") == 2

    # The agent completes a queued SMS elsewhere: the page counts it without a reload.
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    token = token_for(db.session.get(User, team["agent"].id))
    resp = live_server.app.test_client().post(f"/api/manual-actions/{queued}/complete", json={"message": "Hi"},
                                              headers={"Authorization": f"Bearer {token}"})
    db.session.remove()
    assert resp.status_code == 200
    expect(page.locator("#actions-agents tbody tr").first.locator("td")).to_have_text(["Alex Agent", "2", "1", "3"])
