"""The seeds' match_documents functions (migration 0016), run in the caller's tenant transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ragstore.errors import InvalidRequest
from ragstore.models import DocumentMatch
from ragstore.store.chunks import EF_SEARCH, MAX_SCAN_TUPLES
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection


def match_documents(
    conn: Connection,
    embedding: Sequence[float],
    *,
    half: bool,
    company_id: str | None,
    threshold: float,
    count: int,
    store_ids: Sequence[str] | None,
    attributes: dict[str, Any],
) -> list[DocumentMatch]:
    """match_documents (a vector query) or match_documents_half (halfvec); a query the function refuses (a dimension
    no store searched has, a value out of halfvec's range) is a bad request that says why."""
    params = {
        "embedding": "[" + ",".join(repr(float(x)) for x in embedding) + "]",
        "company_id": company_id,
        "threshold": threshold,
        "count": count,
        "vector_store_ids": list(store_ids) if store_ids is not None else None,
        "filter": Jsonb(attributes),
    }
    query = QUERIES["match_documents_halfvec" if half else "match_documents_vector"]
    try:
        with conn.transaction():  # a savepoint: the refusal leaves the caller's transaction usable
            # as ragstore's search walks HNSW: iterative, so that a store or attribute filter does not starve it
            tuning = {"ef_search": str(max(EF_SEARCH, count)), "max_scan": str(MAX_SCAN_TUPLES)}
            conn.execute(QUERIES["tune_hnsw"], tuning)
            rows = conn.execute(query, params).fetchall()
    except psycopg.errors.DataException as exc:
        raise InvalidRequest(exc.diag.message_primary or str(exc), param="query_embedding") from exc
    return [DocumentMatch(**row) for row in rows]
