"""The inbound-webhook trigger's URL: shown to editors, its own secret per workflow, rotated alone,
the pre-upgrade HMAC URL accepted until the first rotation, and a sample request captured for mapping."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from builder.domain.workflow_hooks import legacy_secret, sample_fields
from builder.extensions import db
from builder.models import Contact, Workflow, utcnow
from tests.factories import ApiClient, make_outsider, make_workflow


def hook_graph(field_map: dict[str, str] | None = None) -> dict:
    return {"name": "Leads", "trigger": {"type": "inbound_webhook", "config": {"field_map": field_map or {}}},
            "start": "s1", "steps": {"s1": {"type": "add_tag", "config": {"tag": "lead"}, "next": None}}}


MAPPED = hook_graph({"lead.phone": "phone", "lead.name": "first_name"})
LEAD = {"lead": {"phone": "+14155550123", "name": "Noor", "utm": {"source": "ads"}}, "id": 7, "tags": ["a"]}


def path_of(url: str) -> str:
    return urlsplit(url).path


def stored(workflow_id: int) -> Workflow:
    db.session.expire_all()
    return db.session.get(Workflow, workflow_id)


def contact_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_editors_get_the_url_and_it_enrolls(app, account, as_user, client, role):
    wf = make_workflow(account, MAPPED)
    res = as_user(role).get(f"/api/workflows/{wf.id}/hook")
    assert res.status_code == 200
    assert res.json["url"] == f"http://localhost/hooks/workflows/{wf.id}/{stored(wf.id).hook_secret}"
    assert res.json["rotated_at"]
    posted = client.post(path_of(res.json["url"]), json=LEAD)
    assert posted.status_code == 202 and posted.json["created"] is True


def test_the_url_uses_public_url_when_set(app, account, as_user):
    app.config["PUBLIC_URL"] = "https://flow.example.com/"
    wf = make_workflow(account, MAPPED)
    assert as_user("admin").get(f"/api/workflows/{wf.id}/hook").json["url"].startswith(
        f"https://flow.example.com/hooks/workflows/{wf.id}/")


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/rotate"), ("post", "/listen"),
                                                ("get", "/sample")])
def test_agents_may_not_see_or_change_the_url(app, account, as_user, method, suffix):
    wf = make_workflow(account, MAPPED)
    secret = wf.hook_secret
    res = getattr(as_user("agent"), method)(f"/api/workflows/{wf.id}/hook{suffix}", json={})
    assert res.status_code == 403
    assert secret not in res.get_data(as_text=True)
    assert stored(wf.id).hook_secret == secret and stored(wf.id).hook_listen_until is None


def test_another_accounts_workflow_is_not_found(app, account, client):
    wf = make_workflow(account, MAPPED)
    outsider = ApiClient(client, make_outsider("admin"))
    for method, suffix in [("get", ""), ("post", "/rotate"), ("post", "/listen"), ("get", "/sample")]:
        res = getattr(outsider, method)(f"/api/workflows/{wf.id}/hook{suffix}", json={})
        assert res.status_code == 404, suffix
        assert wf.hook_secret not in res.get_data(as_text=True)
    assert stored(wf.id).hook_listen_until is None


def test_each_workflow_has_its_own_secret_and_rotating_one_leaves_the_others(app, account, as_user, client):
    api = as_user("manager")
    first, second = make_workflow(account, MAPPED), make_workflow(account, MAPPED)
    old_first = api.get(f"/api/workflows/{first.id}/hook").json["url"]
    url_second = api.get(f"/api/workflows/{second.id}/hook").json["url"]
    assert path_of(old_first).rsplit("/", 1)[1] != path_of(url_second).rsplit("/", 1)[1]

    rotated = api.post(f"/api/workflows/{first.id}/hook/rotate")
    assert rotated.status_code == 200
    new_first = rotated.json["url"]
    assert new_first != old_first and api.get(f"/api/workflows/{first.id}/hook").json["url"] == new_first

    refused = client.post(path_of(old_first), json=LEAD)
    assert refused.status_code == 404 and contact_count() == 0
    assert client.post(path_of(new_first), json=LEAD).status_code == 202
    assert client.post(path_of(url_second), json=LEAD).status_code == 202


def test_the_pre_upgrade_url_works_until_the_first_rotation(app, account, as_user, client):
    upgraded, new = make_workflow(account, MAPPED), make_workflow(account, MAPPED)
    stored(upgraded.id).hook_rotated_at = None  # as migration 0017 leaves existing workflows
    db.session.commit()
    old_url = f"/hooks/workflows/{upgraded.id}/{legacy_secret(app.config['SECRET_KEY'], upgraded.id)}"
    assert as_user("admin").get(f"/api/workflows/{upgraded.id}/hook").json["rotated_at"] is None
    assert client.post(old_url, json=LEAD).status_code == 202
    # A workflow made since has only its random secret.
    assert client.post(f"/hooks/workflows/{new.id}/{legacy_secret(app.config['SECRET_KEY'], new.id)}",
                       json=LEAD).status_code == 404
    assert as_user("admin").post(f"/api/workflows/{upgraded.id}/hook/rotate").status_code == 200
    assert client.post(old_url, json=LEAD).status_code == 404


def test_the_secret_stays_out_of_the_graph_and_workflow_json(app, account, as_user):
    wf = make_workflow(account, MAPPED)
    secret = stored(wf.id).hook_secret
    api = as_user("admin")
    for path in (f"/api/workflows/{wf.id}", "/api/workflows", f"/api/workflows/{wf.id}/versions",
                 f"/api/workflows/{wf.id}?version=1"):
        res = api.get(path)
        assert res.status_code == 200 and secret not in res.get_data(as_text=True), path
    dup = api.post(f"/api/workflows/{wf.id}/duplicate")
    assert secret not in dup.get_data(as_text=True)
    assert stored(dup.json["id"]).hook_secret not in ("", secret)  # a copy gets its own URL


def test_a_sample_is_captured_for_a_draft_without_enrolling(app, account, as_user, client):
    wf = make_workflow(account, hook_graph(), publish=False)
    api = as_user("manager")
    assert api.get(f"/api/workflows/{wf.id}/hook/sample").json == {
        "listening_until": None, "received_at": None, "sample": None, "fields": []}
    url = path_of(api.get(f"/api/workflows/{wf.id}/hook").json["url"])
    assert client.post(url, json=LEAD).status_code == 409  # a draft, and nobody is waiting for a sample

    listening = api.post(f"/api/workflows/{wf.id}/hook/listen", json={"minutes": 5})
    assert listening.status_code == 200 and listening.json["listening_until"]
    assert api.get(f"/api/workflows/{wf.id}/hook/sample").json["listening_until"]
    res = client.post(url, json=LEAD)
    assert res.status_code == 202 and res.json == {"captured": True, "enrolled": False}
    assert contact_count() == 0

    sample = api.get(f"/api/workflows/{wf.id}/hook/sample").json
    assert sample["sample"] == LEAD and sample["received_at"] and sample["listening_until"] is None
    assert sorted(sample["fields"], key=lambda f: f["path"]) == [
        {"path": "id", "example": 7}, {"path": "lead.name", "example": "Noor"},
        {"path": "lead.phone", "example": "+14155550123"}, {"path": "lead.utm.source", "example": "ads"}]
    # Only the next request: the capture is disarmed.
    assert client.post(url, json={"other": 1}).status_code == 409
    assert api.get(f"/api/workflows/{wf.id}/hook/sample").json["sample"] == LEAD


def test_a_wrong_secret_or_a_bad_body_captures_nothing(app, account, as_user, client):
    wf = make_workflow(account, hook_graph(), publish=False)
    api = as_user("admin")
    url = path_of(api.get(f"/api/workflows/{wf.id}/hook").json["url"])
    api.post(f"/api/workflows/{wf.id}/hook/listen", json={})
    assert client.post(f"/hooks/workflows/{wf.id}/{'0' * 32}", json=LEAD).status_code == 404
    assert client.post(url, json=["not", "an", "object"]).status_code == 400
    assert client.post(url, data="{broken", content_type="application/json").status_code == 400
    sample = api.get(f"/api/workflows/{wf.id}/hook/sample").json
    assert sample["sample"] is None and sample["listening_until"]  # still waiting


def test_a_capture_that_ran_out_captures_nothing(app, account, as_user, client):
    wf = make_workflow(account, hook_graph(), publish=False)
    api = as_user("admin")
    url = path_of(api.get(f"/api/workflows/{wf.id}/hook").json["url"])
    api.post(f"/api/workflows/{wf.id}/hook/listen", json={"minutes": 1})
    stored(wf.id).hook_listen_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post(url, json=LEAD).status_code == 409
    assert api.get(f"/api/workflows/{wf.id}/hook/sample").json["sample"] is None


@pytest.mark.parametrize("minutes", [0, 61, "5", None])
def test_listen_refuses_a_bad_duration(app, account, as_user, minutes):
    wf = make_workflow(account, hook_graph())
    res = as_user("admin").post(f"/api/workflows/{wf.id}/hook/listen", json={"minutes": minutes})
    assert res.status_code == 422 and "minutes" in res.json["error"]["fields"]
    assert stored(wf.id).hook_listen_until is None


def test_the_sample_is_kept_even_when_the_mapping_refuses_it_then_the_mapping_enrolls(app, account, as_user, client):
    wf = make_workflow(account, hook_graph())  # published, nothing mapped yet
    api = as_user("admin")
    url = path_of(api.get(f"/api/workflows/{wf.id}/hook").json["url"])
    api.post(f"/api/workflows/{wf.id}/hook/listen", json={})
    assert client.post(url, json=LEAD).status_code == 422  # no phone or email mapped
    fields = [f["path"] for f in api.get(f"/api/workflows/{wf.id}/hook/sample").json["fields"]]
    assert "lead.phone" in fields

    # The builder writes the picked paths into the trigger's field_map; saved and published, they enroll.
    assert api.put(f"/api/workflows/{wf.id}", json=MAPPED).status_code == 200
    assert api.post(f"/api/workflows/{wf.id}/publish", json={}).status_code == 200
    res = client.post(url, json=LEAD)
    assert res.status_code == 202 and "captured" not in res.json
    contact = db.session.get(Contact, res.json["contact_id"])
    assert (contact.phone, contact.first_name) == ("+14155550123", "Noor")
    assert len(res.json["enrollment_ids"]) == 1


def test_a_published_workflow_captures_and_enrolls(app, account, as_user, client):
    wf = make_workflow(account, MAPPED)
    api = as_user("admin")
    url = path_of(api.get(f"/api/workflows/{wf.id}/hook").json["url"])
    api.post(f"/api/workflows/{wf.id}/hook/listen", json={})
    res = client.post(url, json=LEAD)
    assert res.status_code == 202 and res.json["captured"] is True and res.json["created"] is True
    assert api.get(f"/api/workflows/{wf.id}/hook/sample").json["sample"] == LEAD


def test_sample_fields_skip_lists_and_dotted_keys_and_stop_at_the_cap():
    assert sample_fields({"a.b": 1, "l": [1], "n": None, "o": {"x": True}}) == [
        {"path": "n", "example": None}, {"path": "o.x", "example": True}]
    assert len(sample_fields({f"k{i}": i for i in range(500)})) == 200
    assert sample_fields(["not", "an", "object"]) == []
