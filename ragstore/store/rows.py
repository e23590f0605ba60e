"""The row and connection types of every store module: connections hand rows out as dicts (psycopg's dict_row)."""

from __future__ import annotations

from typing import Any, TypeAlias

import psycopg

Row: TypeAlias = dict[str, Any]
# The connection type, for annotations here and in the layers above, which never import psycopg themselves.
Connection: TypeAlias = psycopg.Connection[Row]
Cursor: TypeAlias = psycopg.Cursor[Row]


class MissingRow(LookupError):
    """A statement that always returns a row (an aggregate, an INSERT ... RETURNING) returned none."""


def one(cursor: Cursor) -> Row:
    """The row of a statement that always returns one."""
    row = cursor.fetchone()
    if row is None:
        raise MissingRow("The statement returned no row.")
    return row
