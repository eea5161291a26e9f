"""Contacts > Import in a real browser (CSRF on): upload, mapping, progress, the rejected-rows report; and
Export CSV from the contacts list."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Page, expect
from sqlalchemy import select

from builder.extensions import db
from builder.models import Contact
from tests.browser_support import *  # noqa: F403 (fixtures)
from tests.browser_support import LiveServer, login
from tests.factories import run_jobs

PEOPLE = ("Name,Mobile,Email,Labels\n"
          "Ada <b>Lovelace</b>,(415) 555-0101,ada@example.com,vip\n"
          "Bob,12,,\n"
          "Cy,415 555 0102,,\"lead, west\"\n"
          "Dee,,not-an-email,\n")


def downloaded(page: Page, click) -> list[list[str]]:
    with page.expect_download() as info:
        click()
    with open(info.value.path(), encoding="utf-8") as handle:
        return list(csv.reader(io.StringIO(handle.read())))


def test_imports_a_csv_with_bad_rows_and_reads_the_report(page: Page, live_server: LiveServer, team, tmp_path):
    live_server.app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    login(page, live_server, team["manager"].email, then="/contacts")
    page.locator("#import-contacts").click()
    expect(page.locator("body")).to_have_attribute("data-import-ready", "true")

    page.locator("#import-file").set_input_files(files=[{"name": "fair.csv", "mimeType": "text/csv",
                                                          "buffer": PEOPLE.encode()}])
    page.get_by_role("button", name="Upload").click()
    # The mapping suggested from the headers; what people wrote shows as text, never as markup.
    expect(page.get_by_label("Import column Mobile as")).to_have_value("phone")
    expect(page.get_by_label("Import column Labels as")).to_have_value("tag")
    expect(page.locator("#mapping-body")).to_contain_text("Ada <b>Lovelace</b>")
    expect(page.locator("#mapping-body b")).to_have_count(0)

    # Nothing tells contacts apart: refused, and the error says why.
    for column in ("Name", "Mobile", "Email"):
        page.get_by_label(f"Import column {column} as").select_option("ignore")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator('[data-error-for="mapping"]')).to_contain_text("Map a name, email or phone column")

    page.get_by_label("Import column Name as").select_option("first_name")
    page.get_by_label("Import column Mobile as").select_option("phone")
    page.get_by_label("Import column Email as").select_option("email")
    page.get_by_label("Tags for every imported contact").fill("spring fair")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("body")).to_have_attribute("data-import-status", "queued")

    run_jobs(live_server.app)  # the worker: its progress reaches the page live (or by the poll)
    db.session.remove()
    expect(page.locator("body")).to_have_attribute("data-import-status", "finished")
    expect(page.locator("#import-status")).to_have_text("Done: 4 rows read.")
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-rejected")).to_have_text("2")

    report = downloaded(page, page.get_by_role("link", name="Download rejected rows (CSV)").click)
    assert report[0] == ["row", "reason", "Name", "Mobile", "Email", "Labels"]
    assert [(row[0], row[2]) for row in report[1:]] == [("2", "Bob"), ("4", "Dee")]
    assert report[1][1].startswith("Phone:") and report[2][1].startswith("Email:")
    names = db.session.scalars(select(Contact.first_name).order_by(Contact.id)).all()
    tags = db.session.scalars(select(Contact).order_by(Contact.id)).all()[1].tags
    db.session.remove()
    assert names == ["Ada <b>Lovelace</b>", "Cy"] and tags == ["lead", "spring fair", "west"]

    # Export CSV takes the list's filter.
    page.get_by_role("link", name="Go to contacts").click()
    expect(page.locator("#contacts-body tr")).to_have_count(2)
    page.goto(f"{live_server.url}/contacts?tag=vip")
    expect(page.locator("#contacts-body tr")).to_have_count(1)
    exported = downloaded(page, page.locator("#export-csv").click)
    assert [row[1] for row in exported[1:]] == ["Ada <b>Lovelace</b>"]
    assert exported[1][4] == "'+14155550101"  # a formula character first: quoted for spreadsheets
