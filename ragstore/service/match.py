"""The seeds' match_documents, as their Supabase RPC calls it: the nearest chunks to a given embedding.

The caller embeds the query itself (the seeds send `query_embedding`), so no model runs here; the SQL functions of
migration 0016 rank, in one tenant transaction under row-level security.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ragstore.errors import InvalidRequest
from ragstore.models import DocumentMatch
from ragstore.service import Database
from ragstore.store import match

MAX_DIMENSIONS = 4000  # the most a halfvec HNSW index takes, and so the most a store's space has
MAX_COUNT = 1000


def match_documents(
    db: Database,
    tenant_id: str,
    embedding: Sequence[float],
    *,
    half: bool = False,
    company_id: str | None = None,
    threshold: float = 0.0,
    count: int = 10,
    store_ids: Sequence[str] | None = None,
    attributes: dict[str, Any] | None = None,
) -> list[DocumentMatch]:
    """The chunks most similar to embedding (cosine, above threshold), best first, at most count.

    company_id: a tenant id; another tenant's than the caller's matches nothing (row-level security).
    """
    if not 1 <= len(embedding) <= MAX_DIMENSIONS:
        raise InvalidRequest(
            f"query_embedding must have 1 to {MAX_DIMENSIONS} numbers, got {len(embedding)}.", param="query_embedding"
        )
    if not all(math.isfinite(x) for x in embedding):
        raise InvalidRequest("query_embedding must hold finite numbers only.", param="query_embedding")
    if not 0 <= count <= MAX_COUNT:
        raise InvalidRequest(f"match_count must be 0 to {MAX_COUNT}, got {count}.", param="match_count")
    if not math.isfinite(threshold):
        raise InvalidRequest("match_threshold must be a finite number.", param="match_threshold")
    with db.tenant(tenant_id) as conn:
        return match.match_documents(
            conn,
            embedding,
            half=half,
            company_id=company_id,
            threshold=threshold,
            count=count,
            store_ids=store_ids,
            attributes=attributes or {},
        )
