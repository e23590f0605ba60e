"""The named queries of sql/queries.sql, loaded once."""

from __future__ import annotations

import re
from importlib import resources

_MARKER = re.compile(r"^-- (\w+) --$", re.MULTILINE)


def load(text: str) -> dict[str, str]:
    """Split a file of `-- name --` blocks into {name: query}."""
    parts = _MARKER.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


QUERIES = load(resources.files("ragstore.store").joinpath("sql/queries.sql").read_text(encoding="utf-8"))
