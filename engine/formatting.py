"""Text operations for the Text Formatter step: case, trimming, replacing, splitting, extracting the first
email / phone / number / URL, truncating, and a default for an empty value. Plain functions of text."""

from __future__ import annotations

import re

TEXT_LIMIT = 10_000  # characters a formatted value may hold (it is kept on the run, and may go to a field)

_WORD_START = re.compile(r"(^|[\s\-/(\"\[])(\w)")
_INNER_SPACE = re.compile(r"[ \t]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digits with the separators phones are written with; it counts if it has 7 to 15 digits.
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{4,}\d")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_URL_TAIL = ".,;:!?'\")]}"


def title_case(text: str) -> str:
    """Each word capitalised and the rest lower case: "ADA lovelace-byron" -> "Ada Lovelace-Byron".
    An apostrophe is inside a word ("don't" stays "Don't")."""
    return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), text.lower())


def trim(text: str) -> str:
    """Spaces at both ends removed, runs of spaces inside turned into one: "  Ada   Lovelace " -> "Ada Lovelace"."""
    return "\n".join(_INNER_SPACE.sub(" ", line).strip() for line in text.strip().split("\n"))


def split_part(text: str, separator: str, part: int) -> str | None:
    """Part `part` (1 the first, -1 the last) of `text` split at `separator`, trimmed; None if there is none."""
    parts = text.split(separator)
    index = part - 1 if part > 0 else part
    if not -len(parts) <= index < len(parts):
        return None
    return parts[index].strip()


def first_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).rstrip(".") if match else None


def first_phone(text: str) -> str | None:
    """The first phone number as written ("+1 (415) 555-0100"): 7 to 15 digits with their separators."""
    for match in _PHONE.finditer(text):
        found = match.group(0).strip(" .-")
        if found.count("(") > found.count(")"):  # "(415" of "(415 555 0100" keeps no stray bracket
            found = found.lstrip("(")
        elif found.count(")") > found.count("("):
            found = found.rstrip(")")
        if 7 <= sum(ch.isdigit() for ch in found) <= 15:
            return found
    return None


def first_number(text: str) -> str | None:
    """The first number, without thousands separators: "Total: $1,250.50 due" -> "1250.50"."""
    match = _NUMBER.search(text)
    return match.group(0).replace(",", "") if match else None


def first_url(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0).rstrip(_URL_TAIL) if match else None


def truncate(text: str, length: int) -> str:
    """The first `length` characters."""
    return text[:length]


def default_when_empty(text: str, fallback: str) -> str:
    """`text`, or `fallback` if it is empty or only spaces."""
    return text if text.strip() else fallback


EXTRACTORS = {"extract_email": first_email, "extract_phone": first_phone, "extract_number": first_number,
              "extract_url": first_url}
