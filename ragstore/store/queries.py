"""The named queries of sql/*.sql, loaded once."""

from __future__ import annotations

import re
from importlib import resources
from typing import LiteralString

from psycopg import sql

_MARKER = re.compile(r"^-- (\w+) --$", re.MULTILINE)


def load(text: str) -> dict[str, str]:
    """Split a file of `-- name --` blocks into {name: query}."""
    parts = _MARKER.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def load_all() -> dict[str, LiteralString]:
    """Every named query of the package's sql/*.sql files; a name given twice is a bug."""
    # LiteralString, as psycopg asks of a query (never text built from input): the files ship inside the package, as
    # its code does, so their text is as trusted as a literal in it. (mypy reads LiteralString as str.)
    queries: dict[str, LiteralString] = {}
    for path in sorted(resources.files("ragstore.store").joinpath("sql").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".sql"):
            found = load(path.read_text(encoding="utf-8"))
            clash = queries.keys() & found.keys()
            assert not clash, f"queries named twice: {sorted(clash)}"
            queries.update(found)
    return queries


QUERIES = load_all()


def compose(name: str, **fragments: sql.Composable) -> sql.Composed:
    """The named query with its {placeholders} filled by SQL fragments (column lists, sources)."""
    return sql.SQL(QUERIES[name]).format(**fragments)
