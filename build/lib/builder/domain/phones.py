"""Phone numbers: everything we store or send to is E.164 (+14155551000)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "Start the number with + and its country code, e.g. +44 20 7946 0958.",
    NumberParseException.NOT_A_NUMBER: "That does not look like a phone number.",
    NumberParseException.TOO_SHORT_AFTER_IDD: "That phone number is too short.",
    NumberParseException.TOO_SHORT_NSN: "That phone number is too short.",
    NumberParseException.TOO_LONG: "That phone number is too long.",
}


def normalize_phone(raw: str, region: str) -> str:
    """Parse a number as people type it and return it in E.164.

    `region` (ISO 3166 code, e.g. "US") applies to numbers written without a
    +country code; callers pass the app's DEFAULT_PHONE_REGION. Raises
    ValueError with a message fit to show the user.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        raise ValueError(_PARSE_ERRORS.get(exc.error_type, "That does not look like a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        raise ValueError(f"{raw.strip()} is not a valid phone number (read as a {where} number).")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
