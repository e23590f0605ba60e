"""Feedback: a rating of 1..5 (and a comment) on an answer; listed, and aggregated per store and per day.

A rating at or above the training threshold makes the answer a training candidate, in the same transaction; a
new rating of an answer that has an example is carried to it (see training.rerate).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ragstore import ids
from ragstore.errors import InvalidRequest
from ragstore.models import Feedback, Page, PageRequest
from ragstore.service import conversations, paging, training
from ragstore.store import feedback as feedback_store
from ragstore.store.db import Database

MAX_COMMENT = 4000


def rate(
    db: Database,
    tenant_id: str,
    conversation_id: str,
    message_id: str,
    rating: int,
    comment: str | None = None,
    *,
    candidate_at: int = 4,
) -> Feedback:
    """Rate an answer (again: the new rating replaces the old); candidate_at: the training threshold."""
    if not 1 <= rating <= 5:
        raise InvalidRequest(f"rating must be between 1 and 5, got {rating}.", param="rating")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidRequest(f"The comment is longer than {MAX_COMMENT} characters.", param="comment")
    message = conversations.get_message(db, tenant_id, conversation_id, message_id)
    if message.role != "assistant":
        raise InvalidRequest("Only an answer (an assistant message) can be rated.", param="item_id")
    with db.tenant(tenant_id) as conn:
        given = feedback_store.upsert_feedback(
            conn, tenant_id, ids.new(ids.FEEDBACK), message.id, conversation_id, rating, comment
        )
        rerated = training.rerate(conn, tenant_id, message, rating, candidate_at)
        if rerated is None and rating >= candidate_at and training.has_question(conn, tenant_id, message):
            training.make_example(conn, tenant_id, message, "rating", rating)
    return given


def list_feedback(
    db: Database,
    tenant_id: str,
    page: PageRequest,
    *,
    conversation_id: str | None = None,
    vector_store_id: str | None = None,
    rating: int | None = None,
) -> Page[Feedback]:
    paging.check(page)
    with db.tenant(tenant_id) as conn:
        found, has_more = feedback_store.list_feedback(
            conn, tenant_id, page, conversation_id=conversation_id, vector_store_id=vector_store_id, rating=rating
        )
    return Page(found, has_more)


def stats(db: Database, tenant_id: str, days: int = 30) -> dict[str, Any]:
    """Ratings of the last `days` days: count, mean and distribution per vector store searched and per day (UTC)."""
    if not 1 <= days <= 3660:
        raise InvalidRequest(f"days must be between 1 and 3660, got {days}.", param="days")
    since = datetime.now(UTC) - timedelta(days=days)
    with db.tenant(tenant_id) as conn:
        by_store = feedback_store.aggregates(conn, tenant_id, "store", since)
        by_day = feedback_store.aggregates(conn, tenant_id, "day", since)
    return {
        "object": "feedback.stats",
        "since": int(since.timestamp()),
        "by_vector_store": [_group("vector_store_id", row) for row in by_store],
        "by_day": [_group("day", row) for row in by_day],
    }


def _group(key: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: row["key"],
        "count": row["count"],
        "mean_rating": round(row["mean_rating"], 4),
        "ratings": {str(stars): n for stars, n in enumerate(row["ratings"], 1)},
    }
