"""Remove e-mail addresses and phone numbers from text bound for training data."""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SEPARATOR = r"(?: ?[-./] ?| )"  # one space, or a dash, dot or slash, perhaps spaced: 555 - 123 - 4567
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
_DATE = rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[-./]\d{{1,2}}[-./](?:\d{{4}}|\d{{2}}))(?:[T ]{_TIME})?"
# Dates and times are matched first and kept, so that their digits never join a phone number's; a date must not go
# on with another separated group (06.12.34.56.78 is a phone number).
_NUMBERS = re.compile(
    rf"(?P<kept>(?<!\w)(?:{_DATE}|{_TIME})(?!\w|[-./]\d))"
    rf"|(?<![\w+])(?P<phone>(?:\+\d{{1,3}}{_SEPARATOR}?)?(?:\(\d{{1,4}}\){_SEPARATOR}?)?\d+(?:{_SEPARATOR}\d+)*)(?!\w)"
)
EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"


def scrub(text: str) -> str:
    """The text with e-mail addresses as [email] and phone numbers as [phone].

    A phone number has 9 to 15 digits (E.164) and either starts with +, (area code) or 0 (a national prefix), or
    is written in separated groups of at least 10 digits. So dates, times, prices, decimals, Unix timestamps and
    other plain runs of digits are kept, and so are 7-digit local numbers (555-1234: too like other numbers).
    """
    return _NUMBERS.sub(_number, EMAIL.sub(EMAIL_MARK, text))


def _number(match: re.Match[str]) -> str:
    number = match.group(0)
    if match.group("kept"):
        return number
    digits = sum(ch.isdigit() for ch in number)
    marked = number[0] in "+(0"
    separated = not number.isdigit()
    decimal = re.fullmatch(r"\d+\.\d+", number) is not None
    if 9 <= digits <= 15 and not decimal and (marked or (separated and digits >= 10)):
        return PHONE_MARK
    return number


def scrub_json(value: Any) -> Any:
    """Every string inside a JSON value scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_json(item) for item in value]
    if isinstance(value, dict):
        return {key: scrub_json(item) for key, item in value.items()}
    return value
