"""Strings no part of ragstore can hold: JSON may escape half of a UTF-16 pair alone ("\\ud800"), which Python decodes
to a lone surrogate that no UTF-8 encoder (PostgreSQL's text, a cache key's hash, a tokenizer) accepts, or a NUL
("\\u0000"), which PostgreSQL text cannot hold. A request body holding either anywhere is refused whole by
RequestModel, before any field of it is used."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
WHY = {"\x00": "a NUL character, which no stored text may hold"}
SURROGATE = "a lone surrogate, half of a UTF-16 pair, which is not text"

Location = tuple[str | int, ...]


def unstorable(data: Any) -> tuple[Location, str] | None:
    """Where a NUL or a lone surrogate of a decoded JSON value is (the key path to the string, or to the object whose
    key holds it) and which it is, or None. Iterative: a body nested as deep as a JSON parser allows is no problem."""
    for location, text in _strings(data):
        if (found := _UNSTORABLE.search(text)) is not None:
            return location, found.group()
    return None


def why(char: str) -> str:
    """What is wrong with an unstorable character, for people."""
    return f"holds \\u{ord(char):04x}, {WHY.get(char, SURROGATE)}"


def _strings(data: Any) -> Iterator[tuple[Location, str]]:
    """Every string of a JSON value, keys included, with the location of the value it is in (or is a key of)."""
    stack: list[tuple[Location, Any]] = [((), data)]
    while stack:
        location, value = stack.pop()
        if isinstance(value, str):
            yield location, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    yield location, key
                stack.append(((*location, key), item))
        elif isinstance(value, list | tuple):
            stack.extend(((*location, index), item) for index, item in enumerate(value))
