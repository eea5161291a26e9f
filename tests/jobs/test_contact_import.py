"""The contact import job: duplicates modes, chunks that resume after a lost job without importing a row
twice, 'contact created' workflows only when asked, adding the contacts to a workflow, live progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from builder.extensions import db
from builder.live.import_events import PROGRESS_EVENT
from builder.models import (
    Account,
    BulkEnrollment,
    BulkEnrollmentContact,
    Contact,
    ContactImport,
    ContactImportRejection,
    Enrollment,
)
from jobqueue import contact_import, recovery
from tests.factories import ApiClient, connect, make_contact, make_outsider, make_workflow, received, run_jobs

BASE = "/api/contacts/imports"
NOTE = {"a": {"type": "add_note", "config": {"body": "hi"}, "next": None}}


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")


@pytest.fixture
def admin(client, users) -> ApiClient:
    return ApiClient(client, users["admin"])


def begin(admin: ApiClient, text: str, mapping: list[str], **options) -> int:
    """Upload and start an import (its job queued, not yet run); returns its id."""
    resp = admin.post(BASE, data={"file": (io.BytesIO(text.encode()), "people.csv")},
                      content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    started = admin.post(f"{BASE}/{resp.json['id']}/start", json={"mapping": mapping, **options})
    assert started.status_code == 202, started.json
    return resp.json["id"]


def the_import(import_id: int) -> ContactImport:
    db.session.expire_all()
    return db.session.get(ContactImport, import_id)


def people(account) -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(Contact).where(Contact.account_id == account.id).order_by(Contact.id))
    return [(c.first_name, c.phone, c.email, c.tags, c.custom_fields) for c in rows]


MAPPING = ["first_name", "phone", "email", "custom:plan", "tag"]
FILE = ("name,phone,email,plan,tags\n"
        "Ada New,4155550101,,gold,new\n"          # same phone as Ada
        "Bea New,,BEA@x.io,,\n"                   # same email as Bea, another case
        "Cy,4155550103,,silver,\n"                # nobody yet
        "Cy Again,4155550103,cy@x.io,,again\n")   # the row above, in the same file


@pytest.fixture
def existing(account):
    make_contact(account, first_name="Ada", phone="+14155550101", tags=["old"], custom_fields={"plan": "tin",
                                                                                              "team": "red"})
    make_contact(account, first_name="Bea", phone="+14155550102", email="bea@x.io")


def test_skip_leaves_duplicates_as_they_are(app, account, admin, existing):
    import_id = begin(admin, FILE, MAPPING)
    run_jobs(app)
    done = the_import(import_id)
    assert (done.created, done.updated, done.skipped, done.rejected) == (1, 0, 3, 0)
    assert people(account) == [
        ("Ada", "+14155550101", None, ["old"], {"plan": "tin", "team": "red"}),
        ("Bea", "+14155550102", "bea@x.io", [], {}),
        ("Cy", "+14155550103", None, [], {"plan": "silver"}),
    ]


def test_update_writes_non_empty_cells_over_the_match(app, account, admin, existing):
    import_id = begin(admin, FILE, MAPPING, duplicates="update", tags=["fair"])
    run_jobs(app)
    done = the_import(import_id)
    assert (done.created, done.updated, done.skipped, done.rejected) == (1, 3, 0, 0)
    assert people(account) == [
        ("Ada New", "+14155550101", None, ["fair", "new", "old"], {"plan": "gold", "team": "red"}),
        ("Bea New", "+14155550102", "bea@x.io", ["fair"], {}),
        ("Cy Again", "+14155550103", "cy@x.io", ["again", "fair"], {"plan": "silver"}),
    ]


def test_create_makes_a_contact_per_row(app, account, admin, existing):
    import_id = begin(admin, FILE, MAPPING, duplicates="create")
    run_jobs(app)
    assert the_import(import_id).created == 4
    assert len(people(account)) == 6


def test_a_lost_job_resumes_after_the_last_chunk_without_duplicates(app, account, admin):
    app.config["CONTACT_IMPORT_CHUNK_ROWS"] = 3
    rows = "".join(f"P{i},+1415555{i:04d},\n" for i in range(10))
    rows += "Bad,12,\n"  # row 11: rejected once, not once per run
    import_id = begin(admin, "name,phone,email\n" + rows, ["first_name", "phone", "email"])
    app.config["CONTACT_IMPORT_JOB_SECONDS"] = 0  # one chunk per job, then the rest is queued again
    run_one_job(app)
    assert (the_import(import_id).processed, the_import(import_id).status) == (3, "running")
    Redis.from_url(app.config["REDIS_URL"]).flushdb()  # the follow-up job is lost with Redis
    app.config["CONTACT_IMPORT_JOB_SECONDS"] = 300
    assert recovery.reconcile()["contact_imports"] == 0  # still inside the grace period
    app.config["RECOVERY_GRACE_SECONDS"] = 0
    assert recovery.reconcile()["contact_imports"] == 1
    run_jobs(app)
    done = the_import(import_id)
    assert (done.status, done.processed, done.created, done.rejected) == ("finished", 11, 10, 1)
    phones = db.session.scalars(select(Contact.phone).where(Contact.account_id == account.id)).all()
    assert sorted(phones) == [f"+1415555{i:04d}" for i in range(10)]
    assert db.session.scalar(select(func.count()).select_from(ContactImportRejection)) == 1
    assert list(Path(app.config["IMPORT_DIR"]).iterdir()) == []  # the file goes once the import is done
    run_one_job(app)  # a stray job on a finished import does nothing
    assert len(phones) == 10 and the_import(import_id).created == 10


def run_one_job(app) -> None:
    from rq import SimpleWorker

    from jobqueue.connection import get_redis
    from jobqueue.queues import worker_queues

    SimpleWorker(worker_queues(), connection=get_redis()).work(burst=True, max_jobs=1, logging_level="WARNING")


def test_a_chunk_someone_else_wrote_is_not_written_again(app, account, admin):
    import_id = begin(admin, "name\nAda\nBea\n", ["first_name"])
    found = the_import(import_id)
    found.status, found.processed = "running", 2  # another job has committed both rows
    db.session.commit()
    chunk = contact_import.Chunk.for_import(the_import(import_id))
    assert chunk.write(0, [["Ada"], ["Bea"]]) is False
    assert people(account) == [] and the_import(import_id).processed == 2


def test_contact_created_workflows_run_only_when_ticked(app, account, admin):
    graph = {"name": "On create", "trigger": {"type": "contact_created", "config": {}}, "start": "a", "steps": NOTE}
    workflow = make_workflow(account, graph)
    begin(admin, "name,phone\nAda,4155550101\n", ["first_name", "phone"])
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    begin(admin, "name,phone\nBea,4155550102\n", ["first_name", "phone"], fire_created=True)
    run_jobs(app)
    runs = db.session.execute(select(Enrollment.contact_id, Enrollment.status)
                              .where(Enrollment.workflow_id == workflow.id)).all()
    bea = db.session.scalar(select(Contact.id).where(Contact.first_name == "Bea"))
    assert runs == [(bea, "completed")]


def test_imported_contacts_go_on_into_a_workflow_with_drip(app, account, admin, existing):
    workflow = make_workflow(account, {"name": "Nurture", "start": "a", "steps": NOTE})
    import_id = begin(admin, FILE, MAPPING, duplicates="update", workflow_id=workflow.id, batch_size=2,
                      interval_seconds=3600)
    run_jobs(app)
    done = the_import(import_id)
    bulk = db.session.get(BulkEnrollment, done.bulk_enrollment_id)
    assert (bulk.workflow_id, bulk.batch_size, bulk.interval_seconds, bulk.total) == (workflow.id, 2, 3600, 3)
    listed = db.session.scalars(select(Contact.first_name).join(BulkEnrollmentContact,
                                BulkEnrollmentContact.contact_id == Contact.id)
                                .where(BulkEnrollmentContact.bulk_id == bulk.id)
                                .order_by(BulkEnrollmentContact.position)).all()
    assert listed == ["Ada New", "Bea New", "Cy Again"]  # each contact once, in file order
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 2  # the first batch; one waits


def test_the_importer_hears_progress_live(app, account, users, admin):
    importer, colleague = connect(app, users["admin"]), connect(app, users["manager"])
    app.config["CONTACT_IMPORT_CHUNK_ROWS"] = 2
    import_id = begin(admin, "name\nA\nB\nC\n", ["first_name"])
    run_jobs(app)
    heard = [(e["id"], e["status"], e["processed"]) for e in received(importer, PROGRESS_EVENT)]
    assert heard == [(import_id, "running", 0), (import_id, "running", 2), (import_id, "running", 3),
                     (import_id, "finished", 3)]
    assert received(colleague, PROGRESS_EVENT) == []


def test_a_file_that_stops_decoding_fails_the_import_with_a_reason(app, account, admin):
    import_id = begin(admin, "name\nAda\n", ["first_name"])
    found = the_import(import_id)
    with open(contact_import.file_path(found), "ab") as handle:
        handle.write(b"\xff\xfe\xfa broken\n" * 3)
    run_jobs(app)
    done = the_import(import_id)
    assert done.status == "failed" and "could not be read" in done.error


def test_another_accounts_contacts_are_never_matched(app, account, admin):
    theirs = make_outsider("admin")
    make_contact(db.session.get(Account, theirs.account_id), first_name="Theirs", phone="+14155550101")
    import_id = begin(admin, "name,phone\nOurs,4155550101\n", ["first_name", "phone"], duplicates="update")
    run_jobs(app)
    assert (the_import(import_id).created, the_import(import_id).updated) == (1, 0)
    assert people(account) == [("Ours", "+14155550101", None, [], {})]
    assert db.session.scalar(select(Contact.first_name).where(Contact.account_id == theirs.account_id)) == "Theirs"


def test_cells_the_databases_cannot_store_reject_their_row(app, account, admin):
    import_id = begin(admin, "name,tags\nAda,ok\nBea,bad\x00tag\n", ["first_name", "tag"])
    run_jobs(app)
    done = the_import(import_id)
    assert (done.status, done.created, done.rejected) == ("finished", 1, 1)
    rejection = db.session.scalars(select(ContactImportRejection)).one()
    assert (rejection.row_number, rejection.reason, rejection.values) == (2, "Column 2: contains a NUL character.",
                                                                           ["Bea", "badtag"])
