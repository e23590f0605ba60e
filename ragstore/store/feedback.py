"""Ratings of answers, listed and aggregated per store and per day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from ragstore.models import Feedback, PageRequest
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES, compose
from ragstore.store.rows import Connection, one

_FEEDBACK = {"columns": sql.SQL(QUERIES["feedback_columns"])}


def upsert_feedback(
    conn: Connection,
    tenant_id: str,
    feedback_id: str,
    message_id: str,
    conversation_id: str,
    rating: int,
    comment: str | None,
) -> Feedback:
    """Rate a message; rating it again replaces the rating and comment (and keeps the feedback's id)."""
    row = one(
        conn.execute(
            compose("upsert_feedback", **_FEEDBACK),
            {
                "tenant_id": tenant_id,
                "id": feedback_id,
                "message_id": message_id,
                "conversation_id": conversation_id,
                "rating": rating,
                "comment": comment,
            },
        )
    )
    return Feedback(**row)


def get_feedback(conn: Connection, tenant_id: str, feedback_id: str) -> Feedback | None:
    query = compose("get_feedback", **_FEEDBACK)
    row = conn.execute(query, {"tenant_id": tenant_id, "id": feedback_id}).fetchone()
    return Feedback(**row) if row else None


def list_feedback(conn: Connection, tenant_id: str, page: PageRequest, **filters: Any) -> tuple[list[Feedback], bool]:
    """filters: conversation_id, vector_store_id, rating (each None for any)."""
    params = {"tenant_id": tenant_id, "conversation_id": None, "vector_store_id": None, "rating": None, **filters}
    rows, has_more = fetch_page(conn, "list_feedback", params, page, None, **_FEEDBACK)
    return [Feedback(**row) for row in rows], has_more


def aggregates(conn: Connection, tenant_id: str, by: str, since: datetime) -> list[dict[str, Any]]:
    """Count, mean rating and the count of each rating 1..5, grouped by store or by day, for ratings since."""
    query = QUERIES["feedback_by_store" if by == "store" else "feedback_by_day"]
    return conn.execute(query, {"tenant_id": tenant_id, "since": since}).fetchall()
