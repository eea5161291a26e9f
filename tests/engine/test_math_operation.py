"""Math Operation: the number and date rules (with properties), and the step through the real engine, SqlStore,
database and RQ; a bad config through the API is a 422 naming the step and the field."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from builder.extensions import db
from builder.models import Note
from engine import arithmetic, dates
from tests.engine.test_actions import enroll, flow, fresh, logs, runs
from tests.factories import make_contact, make_workflow

NOW = datetime(2026, 11, 30, 20, 0)
numbers = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


# --- the rules -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("42", "42"), (" -3.5 ", "-3.5"), ("+2", "2"), ("1,234.50", "1234.50"), ("$19.99", "19.99"),
    ("-$5", "-5"), ("$-5", "-5"), (".5", "0.5"), ("12 %", "12"), ("€ 7", "7"),
])
def test_numbers_as_people_write_them(text, expected):
    assert arithmetic.parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "12abc", "1,2,3", "--5", "-$-5", "1e5", "NaN", "Infinity", "1.2.3",
                                  "10000000000000000"])
def test_what_is_not_a_number_is_refused_naming_it(text):
    with pytest.raises(ValueError, match="is not a number|is too large"):
        arithmetic.parse_number(text)


def test_decimal_arithmetic_and_rounding():
    n = arithmetic.parse_number
    assert arithmetic.calculate("add", n("0.1"), n("0.2")) == Decimal("0.3")
    assert arithmetic.as_text(arithmetic.calculate("divide", n("10"), n("3"))) == "3.3333333333"
    assert arithmetic.calculate("round", n("2.345"), decimals=2) == Decimal("2.35")  # half up, not to even
    assert arithmetic.calculate("round", n("-2.5")) == Decimal("-3")
    assert arithmetic.as_json_number(Decimal("4.00")) == 4 and arithmetic.as_json_number(Decimal("2.50")) == 2.5
    with pytest.raises(ValueError, match="cannot divide 5 by zero"):
        arithmetic.calculate("divide", n("5"), n("0"))
    with pytest.raises(ValueError, match="too large"):
        arithmetic.calculate("multiply", n("999999999999"), n("999999999999"))


@given(numbers, numbers)
def test_subtracting_what_was_added_gives_the_number_back(a, b):
    total = arithmetic.calculate("add", a, b)
    assert arithmetic.calculate("subtract", total, b) == a


any_input = st.decimals(min_value=-(10**15) + 1, max_value=10**15 - 1, places=10, allow_nan=False,
                       allow_infinity=False)


@given(st.sampled_from(["add", "subtract", "multiply", "divide", "round"]), any_input, any_input,
       st.integers(0, arithmetic.MAX_DECIMALS))
def test_any_inputs_give_a_bounded_result_or_a_clear_refusal(operation, a, b, decimals):
    try:
        result = arithmetic.calculate(operation, a, b, decimals)
    except ValueError as exc:
        assert "too large" in str(exc) or "by zero" in str(exc)
    else:
        assert abs(result) < arithmetic.LIMIT and -result.as_tuple().exponent <= arithmetic.MAX_DECIMALS
        assert arithmetic.parse_number(arithmetic.as_text(result)) == result


@given(numbers)
def test_a_number_written_out_reads_back_the_same(a):
    assert arithmetic.parse_number(arithmetic.as_text(a)) == a
    assert arithmetic.parse_number(f"{a:,f}") == a  # with thousands separators


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(-1200, 1200))
def test_months_move_the_calendar_and_a_missing_day_becomes_the_months_last(day, months):
    moved = dates.add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == min(day.day, calendar.monthrange(moved.year, moved.month)[1])


@pytest.mark.parametrize("start, amount, unit, expected", [
    ("2026-01-31", 1, "months", "2026-02-28"), ("2024-01-31", 1, "months", "2024-02-29"),
    ("2024-02-29", 1, "years", "2025-02-28"), ("2026-03-31", -1, "months", "2026-02-28"),
    ("2026-12-25", 2, "weeks", "2027-01-08"), ("2026-03-01", -1, "days", "2026-02-28"),
    ("12/01/2026", 3, "days", "2026-12-04"), ("2026-12-01T09:30:00+00:00", 1, "months", "2027-01-01T09:30:00+00:00"),
])
def test_dates_move_by_calendar_units(start, amount, unit, expected):
    assert dates.as_text(dates.shift(dates.parse_date(start, NOW, UTC), amount, unit)) == expected


def test_today_is_the_contacts_date_and_bad_dates_are_named():
    tokyo = dates.contact_zone("Asia/Tokyo")
    assert dates.parse_date("today", NOW, tokyo) == date(2026, 12, 1)  # 20:00 UTC is the next morning there
    assert dates.parse_date("Today", NOW, UTC) == date(2026, 11, 30)
    for bad in ("2026-02-30", "next week", "13/01/2026"):
        with pytest.raises(ValueError, match=f"'{bad}' is not a date"):
            dates.parse_date(bad, NOW, UTC)
    with pytest.raises(ValueError, match="outside the years"):
        dates.shift(date(9999, 12, 1), 1, "months")
    with pytest.raises(ValueError, match="'Mars/Base' is not a known time zone"):
        dates.contact_zone("Mars/Base")


# --- the step through the engine ------------------------------------------------------------------------------

def math(operation: str, value: str, next_step: str | None = None, **config) -> dict:
    return {"type": "math_operation", "config": {"operation": operation, "value": value, **config}, "next": next_step}


def test_numbers_from_a_field_and_a_constant_go_to_a_custom_field_and_a_later_step(app, account):
    wf = make_workflow(account, flow({
        "m": math("multiply", "{{ contact.custom.price }}", "r", operand="{{ contact.custom.qty }}"),
        "r": math("round", "{{ steps.m.value }}", "note", decimals=1, save_to="custom.total"),
        "note": {"type": "add_note", "config": {"body": "Total {{ steps.r.value }}"}},
    }))
    contact = make_contact(account, custom_fields={"price": "$19.99", "qty": "3"})
    enroll(app, wf, [contact])
    assert fresh(contact).custom_fields["total"] == 60.0  # 59.97, rounded to one place, kept as a number
    assert logs(step_id="m")[0].output == {"value": 59.97, "operation": "multiply", "inputs": ["19.99", "3"],
                                           "next": "r"}
    assert logs(step_id="r")[0].output["field"] == "custom.total"
    assert db.session.scalar(select(Note.body)) == "Total 60"
    assert runs()[0].status == "completed"


def test_a_whole_result_saved_to_a_standard_field_is_text(app, account):
    wf = make_workflow(account, flow({"m": math("add", "{{ contact.custom.a }}", operand="1", save_to="last_name")}))
    contact = make_contact(account, custom_fields={"a": "41"})
    enroll(app, wf, [contact])
    assert fresh(contact).last_name == "42" and logs()[0].output["value"] == 42


@pytest.mark.parametrize("config, error", [
    (math("divide", "10", operand="{{ contact.custom.zero }}"), "cannot divide 10 by zero"),
    (math("add", "{{ contact.first_name }}", operand="1"), "the value 'Ada' is not a number"),
    (math("subtract", "5", operand="{{ contact.custom.missing }}"),
     "the second number is empty (from '{{ contact.custom.missing }}')"),
    (math("date_add", "{{ contact.custom.renewal }}", amount="1", unit="months"),
     "'soon' is not a date (use YYYY-MM-DD, MM/DD/YYYY or an ISO date and time)"),
    (math("date_add", "2026-01-01", amount="1.5"), "the amount '1.5' is not a whole number"),
    (math("date_add", "2026-01-01", amount="lots"), "the amount 'lots' is not a number"),
])
def test_a_bad_input_fails_the_run_with_a_message_naming_it(app, account, config, error):
    wf = make_workflow(account, flow({"m": {**config, "next": "t"}, "t": {"type": "add_tag", "config": {"tag": "x"}}}))
    contact = make_contact(account, custom_fields={"zero": "0", "renewal": "soon"})
    enroll(app, wf, [contact])
    row = logs(step_id="m")[0]
    assert row.outcome == "failed" and row.error == error
    run = runs()[0]
    assert run.status == "failed" and run.error == f"step m: {error}"
    assert fresh(contact).tags == [] and not logs(step_id="t")  # the run stopped there


def test_dates_move_by_months_clamped_and_by_amounts_from_fields(app, account):
    wf = make_workflow(account, flow({
        "renew": math("date_add", "{{ contact.custom.renewal_date }}", "back", amount="{{ contact.custom.months }}",
                      unit="months", save_to="custom.renewal_date"),
        "back": math("date_subtract", "{{ steps.renew.value }}", amount="2", unit="weeks", save_to="custom.reminder"),
    }))
    contact = make_contact(account, custom_fields={"renewal_date": "2026-01-31", "months": "1"})
    enroll(app, wf, [contact])
    assert fresh(contact).custom_fields == {"renewal_date": "2026-02-28", "months": "1", "reminder": "2026-02-14"}
    assert logs(step_id="renew")[0].output == {
        "value": "2026-02-28", "operation": "date_add", "date": "2026-01-31", "amount": 1, "unit": "months",
        "field": "custom.renewal_date", "next": "back"}


def test_a_date_result_the_field_cannot_hold_fails_saying_so(app, account):
    wf = make_workflow(account, flow({"m": math("date_add", "2026-01-01", amount="1", save_to="email")}))
    contact = make_contact(account, email="ada@example.com")
    enroll(app, wf, [contact])
    row = logs()[0]
    assert row.outcome == "failed" and "cannot save the result to email" in row.error
    assert fresh(contact).email == "ada@example.com"


# --- schema errors through the API ------------------------------------------------------------------------------

def graph_with(config: dict) -> dict:
    return {"name": "Math", "trigger": {"type": "manual", "config": {}}, "start": "m",
            "steps": {"m": {"type": "math_operation", "config": config, "next": None}}}


def test_the_catalogue_lists_it_under_internal_tools_with_its_output(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    item = types["math_operation"]
    assert (item["label"], item["category"]) == ("Math Operation", "Internal Tools")
    fields = {f["name"]: f for f in item["fields"]}
    assert fields["operand"]["shown_if"] == {"field": "operation", "in": ["add", "subtract", "multiply", "divide"]}
    assert fields["save_to"]["suggest"] == "contact_fields"


@pytest.mark.parametrize("config, field, message", [
    ({"operation": "power", "value": "2"}, "operation", "Must be one of"),
    ({"operation": "add"}, "value", "Missing data for required field"),
    ({"operation": "divide", "value": "10"}, "operand", "Give the number to divide by"),
    ({"operation": "add", "value": "{{ contact.first_name", "operand": "1"}, "value", "Merge field error"),
    ({"operation": "round", "value": "1.234", "decimals": 11}, "decimals", "less than or equal to 10"),
    ({"operation": "date_add", "value": "today", "unit": "fortnights"}, "unit", "Must be one of"),
    ({"operation": "add", "value": "1", "operand": "2", "save_to": "phone"}, "save_to", "custom.<key>"),
])
def test_a_bad_config_is_a_422_naming_the_step_and_field(as_user, config, field, message):
    resp = as_user("admin").post("/api/workflows", json=graph_with(config))
    assert resp.status_code == 422, resp.json
    path = f"steps.m.config.{field}"
    assert path in resp.json["error"]["fields"], resp.json
    assert message in " ".join(resp.json["error"]["fields"][path])
