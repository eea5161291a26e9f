"""Contacts > Import over the API: upload, suggested and remembered mappings, start, the rejected-rows
report, who may do it; and Export CSV of the contacts list's filter."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from builder.domain import custom_fields
from builder.extensions import db
from builder.models import Contact, ContactImport, utcnow
from tests.factories import ApiClient, make_contact, make_outsider, make_workflow, run_jobs

BASE = "/api/contacts/imports"
PEOPLE = ("First Name,Last Name,E-mail,Mobile,Labels\n"
          "Ada,Lovelace,ada@example.com,(415) 555-0101,vip\n"
          "Bob,,not-an-email,,\n"
          "Cy,Young,,415 555 0102,\"lead, west\"\n"
          ",,,,\n"
          ",,,12,\n")
NOTE_FLOW = {"name": "Welcome", "start": "a", "steps": {"a": {"type": "add_note", "config": {"body": "hi"},
                                                              "next": None}}}


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")


def upload(client, text: str | bytes, filename: str = "people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(BASE, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def start(client, import_id: int, mapping: list[str], **options):
    return client.post(f"{BASE}/{import_id}/start", json={"mapping": mapping, **options})


MAPPING = ["first_name", "last_name", "email", "phone", "tag"]


def test_upload_answers_headers_preview_and_a_mapping_by_name(app, users, as_user):
    db.session.add(custom_fields.CustomField(account_id=users["admin"].account_id, key="plan", label="Plan",
                                             type="text", position=0))
    db.session.commit()
    resp = upload(as_user("manager"), "First Name,Surname,Email Address,Phone Number,Plan,Notes\nAda,L,a@x.io,1,p,n\n")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["status"] == "uploaded" and body["filename"] == "people.csv"
    assert body["headers"] == ["First Name", "Surname", "Email Address", "Phone Number", "Plan", "Notes"]
    assert body["preview"] == [["Ada", "L", "a@x.io", "1", "p", "n"]]
    assert body["suggested_mapping"] == ["first_name", "last_name", "email", "phone", "custom:plan", "ignore"]
    assert body["remembered"] is False
    assert {"value": "custom:plan", "label": "Custom: Plan"} in body["targets"]


def test_a_mapping_is_remembered_for_the_same_headers(app, users, as_user):
    admin = as_user("admin")
    first = upload(admin, "Given,Family,Cell\nA,B,4155550101\n").json
    mapping = ["first_name", "last_name", "phone"]
    assert first["suggested_mapping"] == ["ignore", "ignore", "phone"]
    assert start(admin, first["id"], mapping).status_code == 202
    again = upload(admin, "given , FAMILY,cell\nC,D,4155550102\n").json  # case and spacing aside
    assert again["remembered"] is True and again["suggested_mapping"] == mapping
    other = make_outsider("admin")
    assert upload(ApiClient(admin.client, other), "Given,Family,Cell\n").json["remembered"] is False


def test_semicolon_files_in_windows_1252_are_read(app, users, as_user):
    resp = upload(as_user("admin"), "Prénom;Téléphone\nZoé;4155550101\n".encode("cp1252"))
    assert resp.status_code == 201
    assert resp.json["headers"] == ["Prénom", "Téléphone"] and resp.json["preview"] == [["Zoé", "4155550101"]]


def test_a_whole_import_creates_contacts_and_reports_rejected_rows(app, account, users, as_user):
    admin = as_user("admin")
    created = upload(admin, PEOPLE).json
    resp = start(admin, created["id"], MAPPING, tags=["spring fair"])
    assert resp.status_code == 202 and resp.json["status"] == "queued"
    run_jobs(app)
    status = admin.get(f"{BASE}/{created['id']}").json
    assert status["status"] == "finished" and status["total"] == 5 and status["processed"] == 5
    assert (status["created"], status["updated"], status["skipped"], status["rejected"]) == (2, 0, 1, 2)
    people = db.session.scalars(select(Contact).where(Contact.account_id == account.id).order_by(Contact.id)).all()
    assert [(c.first_name, c.email, c.phone, c.tags) for c in people] == [
        ("Ada", "ada@example.com", "+14155550101", ["spring fair", "vip"]),
        ("Cy", None, "+14155550102", ["lead", "spring fair", "west"])]
    report = admin.get(f"{BASE}/{created['id']}/rejected.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True))))
    assert rows[0] == ["row", "reason", "First Name", "Last Name", "E-mail", "Mobile", "Labels"]
    assert rows[1][:3] == ["2", "Email: not-an-email is not a valid email address.", "Bob"]
    assert rows[2][0] == "5" and rows[2][1].startswith("Phone:") and rows[2][5] == "12"
    assert len(rows) == 3


@pytest.mark.parametrize(("mapping", "options", "field"), [
    (["first_name"], {}, "mapping"),  # one target per column
    (["first_name", "last_name", "email", "phone", "colour"], {}, "mapping.4"),
    (["first_name", "first_name", "email", "phone", "tag"], {}, "mapping.1"),
    (["ignore", "ignore", "ignore", "ignore", "tag"], {}, "mapping"),  # nothing tells contacts apart
    (MAPPING, {"duplicates": "merge"}, "duplicates"),
    (MAPPING, {"workflow_id": 99999}, "workflow_id"),
    (MAPPING, {"batch_size": 0}, "batch_size"),
    (MAPPING, {"fire_created": "yes"}, "fire_created"),
])
def test_bad_start_requests_are_422_naming_the_field(app, users, as_user, mapping, options, field):
    admin = as_user("admin")
    created = upload(admin, PEOPLE).json
    resp = start(admin, created["id"], mapping, **options)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["fields"]
    assert db.session.get(ContactImport, created["id"]).status == "uploaded"


def test_a_custom_field_mapping_must_name_a_defined_field_once_some_exist(app, account, users, as_user):
    db.session.add(custom_fields.CustomField(account_id=account.id, key="plan", label="Plan", type="text"))
    db.session.commit()
    admin = as_user("admin")
    created = upload(admin, "Name,Plan\nAda,gold\n").json
    assert start(admin, created["id"], ["first_name", "custom:colour"]).json["error"]["fields"] == {
        "mapping.1": ["No custom field has the key colour."]}
    assert start(admin, created["id"], ["first_name", "custom:plan"]).status_code == 202


def test_an_unpublished_or_foreign_workflow_is_refused(app, account, users, as_user):
    admin = as_user("admin")
    draft = make_workflow(account, NOTE_FLOW, publish=False)
    created = upload(admin, PEOPLE).json
    assert start(admin, created["id"], MAPPING, workflow_id=draft.id).status_code == 422


def test_an_import_starts_once(app, users, as_user):
    admin = as_user("admin")
    created = upload(admin, PEOPLE).json
    assert start(admin, created["id"], MAPPING).status_code == 202
    assert start(admin, created["id"], MAPPING).status_code == 409


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("\n\n", "empty"),
    (",".join(f"c{i}" for i in range(201)) + "\n", "at most 200"),
])
def test_files_without_a_usable_header_are_refused(app, users, as_user, text, message):
    resp = upload(as_user("admin"), text)
    assert resp.status_code == 422 and message in resp.json["error"]["fields"]["file"][0]


def test_a_missing_file_is_422(app, users, as_user):
    resp = as_user("admin").post(BASE, data={}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.json["error"]["fields"]


def test_files_past_the_app_body_limit_are_taken_up_to_the_import_limit(app, users, as_user):
    big = "Name,Phone\n" + "".join(f"Person {i:07d},+1415555{i % 10000:04d}\n" for i in range(60_000))
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    assert upload(as_user("admin"), big).status_code == 201
    app.config["CONTACT_IMPORT_MAX_BYTES"] = 1000
    assert upload(as_user("admin"), big).status_code == 413


def test_agents_may_not_import_and_other_accounts_see_nothing(app, account, users, as_user):
    admin = as_user("admin")
    assert upload(as_user("agent"), PEOPLE).status_code == 403
    created = upload(admin, PEOPLE).json
    outsider = ApiClient(admin.client, make_outsider("admin"))
    for path in (f"{BASE}/{created['id']}", f"{BASE}/{created['id']}/rejected.csv"):
        assert outsider.get(path).status_code == 404
        assert as_user("agent").get(path).status_code == 403
    assert start(outsider, created["id"], MAPPING).status_code == 404
    assert as_user("manager").get(f"{BASE}/{created['id']}").status_code == 200


def test_session_uploads_need_the_csrf_token(app, users):
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@acme.test", "password": "correct-horse"}).status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True
    resp = upload(client, PEOPLE)
    assert resp.status_code == 400 and "CSRF" in resp.json["error"]["message"]


# --- export -----------------------------------------------------------------------------------------

def exported(resp) -> list[dict[str, str]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_export_follows_the_filter_and_quotes_formulas(app, account, users, as_user):
    make_contact(account, first_name="=HYPERLINK(\"http://evil\")", phone="+14155550101", tags=["vip"],
                 custom_fields={"plan": "gold", "score": 3})
    make_contact(account, first_name="Bea", phone="+14155550102", email="bea@x.io", tags=["cold"],
                 assigned_user_id=users["agent"].id)
    make_contact(account, first_name="Gone", phone="+14155550103", tags=["vip"]).deleted_at = utcnow()
    db.session.commit()
    rows = exported(as_user("manager").get("/api/contacts/export.csv?tag=VIP"))
    assert len(rows) == 1
    row = rows[0]
    assert row["first_name"] == "'=HYPERLINK(\"http://evil\")" and row["phone"] == "'+14155550101"
    assert row["tags"] == "vip" and row["plan"] == "gold" and row["score"] == "3"
    everyone = exported(as_user("admin").get("/api/contacts/export.csv"))
    assert [r["first_name"][:4] for r in everyone] == ["'=HY", "Bea"]
    assert everyone[1]["assigned_to"] == "agent@acme.test" and everyone[1]["plan"] == ""


def test_agents_export_only_their_contacts_and_other_accounts_nothing(app, account, users, as_user):
    make_contact(account, first_name="Mine", assigned_user_id=users["agent"].id)
    make_contact(account, first_name="Theirs", assigned_user_id=users["agent2"].id)
    assert [r["first_name"] for r in exported(as_user("agent").get("/api/contacts/export.csv"))] == ["Mine"]
    outsider = ApiClient(as_user("admin").client, make_outsider("admin"))
    assert exported(outsider.get("/api/contacts/export.csv")) == []
    assert as_user("agent").get("/api/contacts/export.csv?assigned_user_id=x").status_code == 422


def test_an_export_imports_again_unchanged(app, account, users, as_user):
    make_contact(account, first_name="Ada", last_name="-dash", phone="+14155550101", email="ada@x.io")
    text = as_user("admin").get("/api/contacts/export.csv").get_data(as_text=True)
    db.session.execute(Contact.__table__.delete())
    db.session.commit()
    admin = as_user("admin")
    created = upload(admin, text, "contacts.csv").json
    mapping = created["suggested_mapping"]
    assert mapping[:6] == ["ignore", "first_name", "last_name", "email", "phone", "timezone"]
    assert start(admin, created["id"], mapping).status_code == 202
    run_jobs(app)
    again = db.session.scalars(select(Contact)).one()
    assert (again.first_name, again.last_name, again.phone, again.email) == ("Ada", "-dash", "+14155550101",
                                                                              "ada@x.io")
