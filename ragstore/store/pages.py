"""Cursor pagination over (created_at, id), in both orders, as OpenAI's lists: limit, order, after, before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from ragstore.models import PageRequest
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection


def fetch_page(
    conn: Connection,
    name: str,
    params: dict[str, Any],
    page: PageRequest,
    cursor_at: datetime | None,
    **fragments: sql.Composable,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the named query's rows in the requested order, and whether more lie beyond it.

    `before` walks backwards from the cursor: the rows nearest to it are fetched first, then put back in order.
    """
    forward = page.before is None
    ascending = (page.order == "asc") == forward
    query = sql.SQL(QUERIES[name]).format(
        cmp=sql.SQL(">" if ascending else "<"), direction=sql.SQL("ASC" if ascending else "DESC"), **fragments
    )
    rows = conn.execute(
        query, {**params, "cursor_at": cursor_at, "cursor_id": page.cursor, "limit": page.limit + 1}
    ).fetchall()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    if not forward:
        rows.reverse()
    return rows, has_more
