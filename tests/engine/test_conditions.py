"""If/else conditions evaluated against a contact."""

import pytest

from builder.models import Contact, ContactTag
from engine import conditions


def contact(**fields):
    tags = fields.pop("tags", [])
    fields.setdefault("first_name", "Ada")
    fields.setdefault("timezone", "UTC")
    c = Contact(**fields)
    c.tag_rows.extend(ContactTag(tag=t) for t in tags)
    return c


def check(c, field, op, value=None):
    return conditions.matches(c, {"field": field, "op": op, "value": value})


ADA = dict(first_name="Ada", email="ada@example.com", phone="+12025550123", timezone="America/New_York",
           assigned_user_id=3, tags=["VIP", "west"], custom_fields={"plan": "Gold", "score": 42, "visits": "7",
                                                                    "empty": "", "zero": 0})


@pytest.mark.parametrize("field, op, value, expected", [
    ("contact.first_name", "equals", "ada", True),  # text ignores case
    ("contact.first_name", "equals", " Ada ", True),
    ("contact.first_name", "not_equals", "Bob", True),
    ("contact.email", "contains", "@EXAMPLE", True),
    ("contact.email", "not_contains", "gmail", True),
    ("contact.phone", "starts_with", "+1202", True),
    ("contact.timezone", "equals", "america/new_york", True),
    ("contact.assigned_user_id", "equals", 3, True),
    ("contact.assigned_user_id", "equals", "3", True),
    ("contact.last_name", "is_empty", None, True),
    ("contact.email", "is_not_empty", None, True),
    ("contact.custom.plan", "equals", "gold", True),
    ("contact.custom.missing", "is_empty", None, True),
    ("contact.custom.empty", "is_empty", None, True),
    ("contact.custom.zero", "is_empty", None, False),  # 0 is a value
    ("contact.custom.score", "greater_than", 40, True),
    ("contact.custom.score", "greater_than", "42", False),
    ("contact.custom.score", "less_than", "42.5", True),
    ("contact.custom.visits", "greater_than", 10, False),  # "7" is compared as a number, not as text
    ("contact.custom.visits", "less_than", "10", True),
    ("contact.custom.score", "equals", "42.0", True),  # a stored number equals its text
    ("contact.custom.score", "equals", 42.0, True),
    ("contact.custom.visits", "equals", "7", True),
    ("contact.custom.plan", "greater_than", 1, False),  # not a number: never greater
    ("contact.custom.missing", "less_than", 1, False),
    ("contact.tags", "has_tag", "vip", True),  # tags ignore case
    ("contact.tags", "has_tag", "east", False),
    ("contact.tags", "not_has_tag", "east", True),
    ("contact.tags", "is_not_empty", None, True),
])
def test_operators(field, op, value, expected):
    assert check(contact(**ADA), field, op, value) is expected


def test_text_that_looks_like_a_special_float_is_not_a_number():
    c = contact(first_name="Nan", custom_fields={"code": "inf"})
    assert not check(c, "contact.first_name", "greater_than", -1)
    assert not check(c, "contact.custom.code", "greater_than", 1)


def test_huge_numbers_do_not_break_comparisons():
    c = contact(custom_fields={"big": 10**400})
    assert not check(c, "contact.custom.big", "greater_than", 1)
    assert check(c, "contact.custom.big", "is_not_empty")


def test_zip_codes_compare_as_text():
    c = contact(custom_fields={"zip": "02134"})
    assert check(c, "contact.custom.zip", "equals", "02134")
    assert not check(c, "contact.custom.zip", "equals", "2134")


def test_contact_without_tags():
    c = contact()
    assert check(c, "contact.tags", "is_empty")
    assert not check(c, "contact.tags", "has_tag", "vip")


@pytest.mark.parametrize("path, ok", [
    ("contact.first_name", True), ("contact.tags", True), ("contact.custom.plan", True),
    ("contact.custom.", False), ("contact.password_hash", False), ("first_name", False), ("user.email", False),
])
def test_valid_field(path, ok):
    assert conditions.valid_field(path) is ok


def test_fields_outside_the_list_read_as_missing():
    # A stored graph that skipped validation cannot read other attributes of the contact.
    assert conditions.field_value(contact(), "contact.tag_rows") is None


@pytest.mark.parametrize("path, op, ok", [
    ("contact.tags", "has_tag", True), ("contact.tags", "is_empty", True), ("contact.tags", "equals", False),
    ("contact.email", "has_tag", False), ("contact.email", "contains", True),
])
def test_valid_operator(path, op, ok):
    assert conditions.valid_operator(path, op) is ok
