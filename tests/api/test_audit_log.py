"""The audit log (admins): team changes, settings saved, workflows published and deleted, with who and
when, newest first and paged; written in the same transaction as the change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from builder.extensions import db
from builder.models import AuditEvent
from tests.factories import ApiClient, make_outsider
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

PATH = "/api/audit"
GRAPH = {"name": "Welcome", "start": "t", "steps": {"t": {"type": "add_tag", "config": {"tag": "x"}, "next": None}}}
MESSAGING = {"opt_out_keywords": ["STOP"], "opt_in_keywords": ["START"], "quiet_hours_enabled": False,
             "quiet_hours_start": "08:00", "quiet_hours_end": "21:00"}


def events(api) -> list[dict]:
    res = api.get(PATH)
    assert res.status_code == 200, res.json
    return res.json["items"]


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_read_the_audit_log(app, as_user, role):
    assert as_user(role).get(PATH).status_code == 403


def test_team_changes_are_recorded_with_who_and_what(app, users, as_user):
    admin = as_user("admin")
    new = admin.post("/api/team", json={"email": "nia@acme.test", "name": "Nia", "role": "agent"}).json["user"]
    admin.patch(f"/api/team/{new['id']}", json={"role": "manager"})
    admin.post(f"/api/team/{new['id']}/deactivate", json={})
    admin.post(f"/api/team/{new['id']}/reactivate")
    admin.post(f"/api/team/{new['id']}/reset-password")
    rows = events(admin)
    assert [e["action"] for e in rows] == ["user.password_reset", "user.reactivated", "user.deactivated",
                                           "user.role_changed", "user.created"]
    assert all(e["actor"] == {"id": users["admin"].id, "name": "Admin", "email": "admin@acme.test"} for e in rows)
    assert all(e["target_type"] == "user" and e["target_id"] == new["id"] for e in rows)
    assert rows[-1]["target_label"] == "Nia <nia@acme.test>" and rows[-1]["details"] == {"role": "agent"}
    assert rows[3]["details"] == {"before": "agent", "after": "manager"}
    assert rows[0]["created_at"].endswith("+00:00")
    assert "temporary_password" not in str(rows) and "password" not in str([e["details"] for e in rows])


def test_settings_changes_are_recorded_without_secrets(app, users, as_user, fake_twilio):
    admin = as_user("admin")
    assert admin.put("/api/settings/twilio", json={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                                                   "from_number": "+12025550123"}).status_code == 200
    assert admin.delete("/api/settings/twilio").status_code == 204
    assert admin.put("/api/settings/messaging", json=MESSAGING).status_code == 200
    rows = events(admin)
    assert [e["action"] for e in rows] == ["settings.messaging_saved", "settings.twilio_removed",
                                           "settings.twilio_saved"]
    assert rows[2]["details"] == {"account_sid": ACCOUNT_SID, "token_changed": True}
    assert AUTH_TOKEN not in str(rows)
    assert rows[0]["details"]["opt_out_keywords"] == ["STOP"]


def test_publishing_and_deleting_a_workflow_are_recorded(app, users, as_user):
    manager, admin = as_user("manager"), as_user("admin")
    wf = manager.post("/api/workflows", json=GRAPH).json
    assert manager.post(f"/api/workflows/{wf['id']}/publish", json={}).status_code == 200
    assert manager.delete(f"/api/workflows/{wf['id']}").status_code == 204
    rows = events(admin)
    assert [(e["action"], e["target_label"], e["actor"]["id"]) for e in rows] == [
        ("workflow.deleted", "Welcome", users["manager"].id), ("workflow.published", "Welcome", users["manager"].id)]
    assert rows[1]["details"] == {"version": 1} and rows[1]["target_id"] == wf["id"]


def test_a_refused_change_records_nothing(app, users, as_user):
    admin = as_user("admin")
    assert admin.patch(f"/api/team/{users['admin'].id}", json={"role": "agent"}).status_code == 409
    assert admin.put("/api/settings/messaging", json={**MESSAGING, "opt_out_keywords": []}).status_code == 422
    assert admin.post(f"/api/team/{users['admin'].id}/deactivate", json={}).status_code == 409
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_pages_newest_first_and_only_this_accounts(app, account, users, as_user):
    admin = as_user("admin")
    for n in range(5):
        admin.put("/api/settings/messaging", json={**MESSAGING, "quiet_hours_start": f"0{n}:00"})
    outsider = ApiClient(app.test_client(), make_outsider("admin"))
    outsider.put("/api/settings/messaging", json=MESSAGING)
    first = admin.get(f"{PATH}?per_page=2").json
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [e["details"]["quiet_hours_start"] for e in first["items"]] == ["04:00", "03:00"]
    last = admin.get(f"{PATH}?per_page=2&page=3").json
    assert [e["details"]["quiet_hours_start"] for e in last["items"]] == ["00:00"]
    theirs = outsider.get(PATH).json
    assert theirs["total"] == 1 and theirs["items"][0]["actor"]["email"] == "boss@other.test"
    assert admin.get(f"{PATH}?per_page=500").status_code == 422
