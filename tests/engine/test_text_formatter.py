"""Text Formatter: the text operations (with properties), and the step through the real engine, SqlStore,
database and RQ; a bad config through the API is a 422 naming the step and the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import dates, formatting
from tests.engine.test_actions import enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow

NOW = datetime(2026, 11, 30, 20, 0)


# --- the operations -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("ADA lovelace", "Ada Lovelace"), ("anne-marie o'neil", "Anne-Marie O'neil"), ("don't stop", "Don't Stop"),
    ("  two  spaces", "  Two  Spaces"),
])
def test_title_case(text, expected):
    assert formatting.title_case(text) == expected


@given(st.text(max_size=200))
def test_trim_is_idempotent_and_leaves_no_outer_or_double_spaces(text):
    once = formatting.trim(text)
    assert formatting.trim(once) == once
    assert "  " not in once and once == once.strip()


@given(st.lists(st.text(alphabet="abc xyz", max_size=8), min_size=1, max_size=6), st.data())
def test_splitting_takes_the_part_asked_for(parts, data):
    text = ",".join(parts)
    part = data.draw(st.integers(1, len(parts)))
    assert formatting.split_part(text, ",", part) == parts[part - 1].strip()
    assert formatting.split_part(text, ",", -1) == parts[-1].strip()
    assert formatting.split_part(text, ",", len(parts) + 1) is None


@pytest.mark.parametrize("operation, text, expected", [
    ("extract_email", "Reach me at Ada.L+crm@Example.co.uk. Thanks", "Ada.L+crm@Example.co.uk"),
    ("extract_email", "no address here @ all", None),
    ("extract_phone", "Order 12 - call (415) 555-0100 after 5", "(415) 555-0100"),
    ("extract_phone", "mobile: +44 20 7946 0958.", "+44 20 7946 0958"),
    ("extract_phone", "code 1234 only", None),
    ("extract_number", "Total: $1,250.50 due by the 3rd", "1250.50"),
    ("extract_number", "It was -4 degrees", "-4"),
    ("extract_number", "none", None),
    ("extract_url", "See https://example.com/a?b=1). Bye", "https://example.com/a?b=1"),
    ("extract_url", "Visit www.example.org, today", "www.example.org"),
    ("extract_url", "nothing", None),
])
def test_the_first_of_each_kind_is_extracted(operation, text, expected):
    assert formatting.EXTRACTORS[operation](text) == expected


# Addresses as contacts have them: letters, digits and ._%+- before the @, dotted labels after it.
addresses = st.from_regex(r"[A-Za-z0-9%+_-]([A-Za-z0-9._%+-]{0,20}[A-Za-z0-9%+_-])?@([A-Za-z0-9-]{1,10}\.){1,3}"
                          r"[A-Za-z]{2,6}", fullmatch=True)


@given(addresses, st.sampled_from(["Write to {} today", "{}", "<{}>", "email: {}."]))
def test_any_email_in_a_sentence_is_found_whole(email, sentence):
    assert formatting.first_email(sentence.format(email)) == email


@pytest.mark.parametrize("value, style, zone, expected", [
    ("2026-12-01T14:05:00Z", "long_time", "America/New_York", "December 1, 2026 at 9:05 AM"),
    ("2026-12-01T02:00:00", "long", "America/Los_Angeles", "November 30, 2026"),  # no offset: UTC
    ("2026-12-01", "long_weekday", "Asia/Tokyo", "Tuesday, December 1, 2026"),  # a date alone stays that day
    ("2026-12-01", "us", "", "12/01/2026"), ("2026-12-01", "eu", "", "01/12/2026"),
    ("2026-12-01", "short", "", "Dec 1, 2026"), ("2026-07-04T23:30:00+00:00", "us_time", "UTC", "07/04/2026 11:30 PM"),
    ("2026-07-04T12:00:00+00:00", "time", "UTC", "12:00 PM"), ("2026-07-04", "month_year", "", "July 2026"),
])
def test_dates_are_written_in_the_contacts_zone(value, style, zone, expected):
    tz = dates.contact_zone(zone)
    assert dates.format_date(dates.parse_date(value, NOW, tz), style, tz) == expected


def test_now_is_formatted_in_the_contacts_zone():
    tz = dates.contact_zone("Asia/Tokyo")
    assert dates.format_date(dates.parse_date("now", NOW, tz), "long_time", tz) == "December 1, 2026 at 5:00 AM"
    assert dates.format_date(dates.parse_date("now", NOW, UTC), "iso", UTC) == "2026-11-30"


# --- the step through the engine ------------------------------------------------------------------------------

def fmt(operation: str, text: str, next_step: str | None = None, **config) -> dict:
    return {"type": "text_formatter", "config": {"operation": operation, "text": text, **config}, "next": next_step}


@pytest.mark.parametrize("step, expected", [
    (fmt("upper", "{{ contact.first_name }}"), "ADA"),
    (fmt("lower", "Hello {{ contact.first_name }}"), "hello ada"),
    (fmt("title", "{{ contact.custom.city }}"), "San Francisco"),
    (fmt("trim", "  {{ contact.custom.city }}  "), "san FRANCISCO"),
    (fmt("replace", "{{ contact.custom.city }}", find="san", replace_with="Saint"), "Saint FRANCISCO"),
    (fmt("split", "{{ contact.custom.full }}", separator=",", part=-1), "Lovelace"),
    (fmt("extract_email", "{{ contact.custom.note }}"), "ada@example.com"),
    (fmt("extract_phone", "{{ contact.custom.note }}"), "(415) 555-0199"),
    (fmt("extract_number", "{{ contact.custom.note }}"), "3"),
    (fmt("extract_url", "{{ contact.custom.note }}"), "https://example.com/x"),
    (fmt("truncate", "{{ contact.custom.city }}", length=3), "san"),
    (fmt("default", "{{ contact.last_name }}", fallback="Friend"), "Friend"),
    (fmt("format_date", "{{ contact.custom.signed_at }}", date_format="long_time"), "November 30, 2026 at 4:00 PM"),
])
def test_each_operation_through_the_engine(app, account, step, expected):
    wf = make_workflow(account, flow({"f": {**step, "next": "note"},
                                      "note": {"type": "add_tag", "config": {"tag": "{{ steps.f.value }}"}}}))
    contact = make_contact(account, last_name="", timezone="America/New_York", custom_fields={
        "city": "san FRANCISCO", "full": "Ada, Lovelace",
        "note": "Order 3 for ada@example.com, call (415) 555-0199 or see https://example.com/x.",
        "signed_at": "2026-11-30T21:00:00Z"})
    enroll(app, wf, [contact])
    row = logs(step_id="f")[0]
    assert row.outcome == "ok" and row.output["value"] == expected, row.output
    assert fresh(contact).tags == [expected]  # the next step read it as {{ steps.f.value }}
    assert runs()[0].status == "completed"


def test_the_result_goes_to_a_standard_or_custom_field(app, account):
    wf = make_workflow(account, flow({
        "first": fmt("title", "{{ contact.first_name }}", "email", save_to="first_name"),
        "email": fmt("extract_email", "{{ contact.custom.note }}", save_to="email"),
    }))
    contact = make_contact(account, first_name="aDA", custom_fields={"note": "write to Ada@Example.com"})
    enroll(app, wf, [contact])
    assert (fresh(contact).first_name, fresh(contact).email) == ("Ada", "Ada@Example.com")
    assert logs(step_id="email")[0].output == {"value": "Ada@Example.com", "operation": "extract_email",
                                               "field": "email"}


def test_nothing_found_is_an_empty_value_and_never_clears_the_field(app, account):
    wf = make_workflow(account, flow({"f": fmt("extract_phone", "{{ contact.custom.note }}", "t",
                                               save_to="custom.mobile"),
                                      "t": {"type": "add_tag", "config": {"tag": "after"}}}))
    contact = make_contact(account, custom_fields={"note": "no number", "mobile": "+14155550100"})
    enroll(app, wf, [contact])
    row = logs(step_id="f")[0]
    assert row.outcome == "skipped" and row.output == {
        "reason": "the result is empty, so custom.mobile is left as it was", "value": "", "field": "custom.mobile",
        "operation": "extract_phone", "found": False, "next": "t"}
    assert fresh(contact).custom_fields["mobile"] == "+14155550100" and fresh(contact).tags == ["after"]


@pytest.mark.parametrize("step, timezone, error", [
    (fmt("format_date", "{{ contact.custom.when }}"), "UTC", "'next Tuesday' is not a date (use YYYY-MM-DD, "
                                                              "MM/DD/YYYY or an ISO date and time)"),
    (fmt("format_date", "{{ contact.custom.none }}"), "UTC", "the date is empty (from '{{ contact.custom.none }}')"),
    (fmt("format_date", "2026-01-01"), "Mars/Base", "the contact's time zone 'Mars/Base' is not a known time zone"),
    (fmt("replace", "abc", find="{{ contact.custom.none }}"), "UTC",
     "the text to find is empty (from '{{ contact.custom.none }}')"),
    (fmt("replace", "{{ contact.custom.long }}", find="a", replace_with="aaaaaaaaaa"), "UTC",
     "the result is longer than 10000 characters"),
    (fmt("upper", "{{ contact.custom.long }}", save_to="first_name"), "UTC",
     "cannot save the result to first_name: value is longer than the 100 characters first_name can hold"),
])
def test_a_bad_input_fails_the_run_with_a_message_naming_it(app, account, step, timezone, error):
    wf = make_workflow(account, flow({"f": {**step, "next": "t"}, "t": {"type": "add_tag", "config": {"tag": "x"}}}))
    contact = make_contact(account, first_name="Ada", timezone=timezone,
                           custom_fields={"when": "next Tuesday", "long": "a" * 2000})
    enroll(app, wf, [contact])
    row = logs(step_id="f")[0]
    assert row.outcome == "failed" and row.error == error
    assert runs()[0].status == "failed" and runs()[0].error == f"step f: {error}"
    assert fresh(contact).tags == [] and fresh(contact).first_name == "Ada"


# --- schema errors through the API ------------------------------------------------------------------------------

def graph_with(config: dict) -> dict:
    return {"name": "Format", "trigger": {"type": "manual", "config": {}}, "start": "f",
            "steps": {"f": {"type": "text_formatter", "config": config, "next": None}}}


def test_the_catalogue_lists_it_under_internal_tools(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    item = types["text_formatter"]
    assert (item["label"], item["category"]) == ("Text Formatter", "Internal Tools")
    fields = {f["name"]: f for f in item["fields"]}
    assert {c["value"] for c in fields["operation"]["choices"]} == {
        "upper", "lower", "title", "trim", "replace", "split", "extract_email", "extract_phone", "extract_number",
        "extract_url", "truncate", "default", "format_date"}
    assert fields["date_format"]["shown_if"] == {"field": "operation", "in": ["format_date"]}


def test_a_good_config_saves_as_sent(as_user):
    config = {"operation": "split", "text": "{{ contact.name }}", "separator": " ", "part": 2, "replace_with": "",
              "length": 100, "date_format": "long", "save_to": "custom.surname"}
    resp = as_user("admin").post("/api/workflows", json=graph_with(config))
    assert resp.status_code == 201, resp.json
    assert resp.json["graph"]["steps"]["f"]["config"] == config


@pytest.mark.parametrize("config, field, message", [
    ({"operation": "shout", "text": "x"}, "operation", "Must be one of"),
    ({"operation": "upper"}, "text", "Missing data for required field"),
    ({"operation": "replace", "text": "x"}, "find", "Give the text to find"),
    ({"operation": "split", "text": "x"}, "separator", "Give the separator"),
    ({"operation": "split", "text": "x", "separator": ",", "part": 0}, "part", "Parts count from 1"),
    ({"operation": "truncate", "text": "x", "length": 0}, "length", "greater than or equal to 1"),
    ({"operation": "default", "text": "{{ contact.email }}"}, "fallback", "Give the value to use"),
    ({"operation": "format_date", "text": "today", "date_format": "%Y"}, "date_format", "Must be one of"),
    ({"operation": "upper", "text": "{{ contact.first_name | shout }}"}, "text", "Merge field error"),
    ({"operation": "upper", "text": "x", "save_to": "custom.bad key"}, "save_to", "custom.<key>"),
])
def test_a_bad_config_is_a_422_naming_the_step_and_field(as_user, config, field, message):
    resp = as_user("admin").post("/api/workflows", json=graph_with(config))
    assert resp.status_code == 422, resp.json
    path = f"steps.f.config.{field}"
    assert path in resp.json["error"]["fields"], resp.json
    assert message in " ".join(resp.json["error"]["fields"][path])
