"""Search: the query embedded with the stores' own model, nearest chunks by cosine similarity, filtered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder
from ragstore.models import SearchHit
from ragstore.service import stores
from ragstore.store import chunks, vector_stores
from ragstore.store.db import Database

MAX_RESULTS = 50
# Stores up to this many chunks are searched exactly, which never misses. bench/tenants.py measured the exact
# scan at about 1.1 ms per thousand chunks (5.4 ms at 5k, 43 ms at 50k) against 1.7-2.7 ms for the HNSW walk: up
# to 10k chunks, certainty costs at most ~11 ms.
EXACT_MAX_CHUNKS = 10_000


def search(
    db: Database,
    embedder: Embedder,
    tenant_id: str,
    store_ids: Sequence[str],
    query: str | Sequence[str],
    k: int = 10,
    threshold: float = 0.0,
    filters: Mapping[str, Any] | None = None,
) -> list[SearchHit]:
    """The k best chunks in the stores, with a score in 0..1 (cosine similarity, floored at 0).

    Several queries are searched as one: the mean of their embeddings.
    """
    queries = [query] if isinstance(query, str) else list(query)
    if not queries or not all(q.strip() for q in queries):
        raise InvalidRequest("The query is empty.", param="query")
    if not 1 <= k <= MAX_RESULTS:
        raise InvalidRequest(f"The number of results must be between 1 and {MAX_RESULTS}, got {k}.", param="k")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidRequest(f"score_threshold must be between 0 and 1, got {threshold}.", param="score_threshold")
    for store_id in store_ids:
        stores.check_searchable(stores.get(db, tenant_id, store_id), embedder)
    vectors = embedder.embed(queries)
    embedding = vectors.mean(axis=0)
    embedding = embedding / (np.linalg.norm(embedding) or 1.0)
    with db.tenant(tenant_id) as conn:
        size = chunks.store_chunk_count(conn, tenant_id, list(store_ids))
        exact = size <= EXACT_MAX_CHUNKS
        hits = chunks.search_chunks(conn, tenant_id, list(store_ids), embedding, k, threshold, filters, exact=exact)
        if not exact and len(hits) < min(k, size):
            # The index walk came back short (a selective filter, a store that is a sliver of its partition, or
            # the threshold): an exact scan says for sure.
            hits = chunks.search_chunks(conn, tenant_id, list(store_ids), embedding, k, threshold, filters, exact=True)
        vector_stores.touch_vector_stores(conn, tenant_id, list(store_ids))
    return hits
