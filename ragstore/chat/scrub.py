"""Remove e-mail addresses and phone numbers from text bound for training data."""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Digit groups joined by single spaces, dots or dashes, with an optional +country code and (area code).
_PHONE = re.compile(r"(?<![\w+])(\+\d{1,3}[ .-]?)?(\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,6}(?![\w])")
EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"


def scrub(text: str) -> str:
    """The text with e-mail addresses as [email] and phone numbers as [phone].

    A phone number has 9 to 15 digits (E.164) and either starts with + or (area code) or has at least 10 digits;
    so dates (8 digits), years, prices and short codes are left alone, and so is a plain decimal number.
    """
    return _PHONE.sub(_phone, EMAIL.sub(EMAIL_MARK, text))


def _phone(match: re.Match[str]) -> str:
    number = match.group(0)
    digits = sum(ch.isdigit() for ch in number)
    marked = match.group(1) is not None or match.group(2) is not None
    decimal = re.fullmatch(r"\d+\.\d+", number) is not None
    if 9 <= digits <= 15 and (marked or digits >= 10) and not decimal:
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
