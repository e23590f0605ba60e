"""Search: the query embedded with the stores' own model, nearest chunks by cosine similarity, filtered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ragstore.cache import QueryCache
from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder
from ragstore.models import EmbeddingSpace, SearchHit
from ragstore.observability import metrics
from ragstore.service import spaces, stores
from ragstore.store import chunks, vector_stores
from ragstore.store.db import Connection, Database

MAX_RESULTS = 50
DEPTH_MAX = 100  # what `ragstore eval` asks for; the API allows 50
RANKERS = ("dense", "lexical", "hybrid")
# Hybrid ranking: how many candidates each ranker brings, and the weight of the dense score.
FUSION_DEPTH = 100
# Measured on msmarco (README, Retrieval quality): nDCG@10 0.7076 at 0.8 against 0.7043 for dense alone.
HYBRID_ALPHA = 0.8
# Stores up to this many chunks are searched exactly, which never misses. bench/tenants.py measured the exact
# scan at about 1.1 ms per thousand chunks (5.4 ms at 5k, 43 ms at 50k) against 1.7-2.7 ms for the HNSW walk: up
# to 10k chunks, certainty costs at most ~11 ms.
EXACT_MAX_CHUNKS = 10_000


@metrics.search_timer
def search(
    db: Database,
    embedder: Embedder,
    tenant_id: str,
    store_ids: Sequence[str],
    query: str | Sequence[str],
    k: int = 10,
    threshold: float = 0.0,
    filters: Mapping[str, Any] | None = None,
    ranker: str = "dense",
    alpha: float | None = None,
    *,
    cache: QueryCache | None = None,
) -> list[SearchHit]:
    """The k best chunks in the stores, best first, each with a score in 0..1.

    ranker: dense (cosine similarity, floored at 0), lexical (BM25, divided by the best one's) or hybrid (alpha times
    the cosine plus 1 - alpha times the lexical score). Several queries are searched as one: the mean of their
    embeddings, and all their words. With a cache, results and the query embedding are looked up there first.
    """
    queries = [query] if isinstance(query, str) else list(query)
    _check(queries, k, threshold, ranker)
    found = [stores.get(db, tenant_id, store_id) for store_id in store_ids]
    space = spaces.active_space(db, tenant_id, found)
    if found:
        embedder = spaces.query_embedder(embedder, found[0], space)
    for store in found:
        stores.check_searchable(store, embedder)
    # Query words are analysed in the first store's language (stores searched together normally share one).
    language = found[0].text_search_language if found else "english"
    ids = list(store_ids)
    cache = cache or QueryCache.disabled()
    alpha = HYBRID_ALPHA if alpha is None else alpha
    key = cache.search_key(
        embedder, tenant_id, found, queries, k=k, threshold=threshold, filters=filters, ranker=ranker, alpha=alpha
    )
    cached = cache.get_hits(key)
    if cached is not None:
        with db.tenant(tenant_id) as conn:
            vector_stores.touch_vector_stores(conn, tenant_id, ids)
        return cached
    embedding = None if ranker == "lexical" else _embedding(embedder, queries, cache)
    with db.tenant(tenant_id) as conn:
        if ranker == "dense":
            hits = _dense(conn, tenant_id, ids, embedding, k, threshold, filters, space)
        else:
            lexical = chunks.search_chunks_lexical(
                conn, tenant_id, ids, " ".join(queries), max(k, FUSION_DEPTH), filters, language
            )
            if ranker == "lexical":
                hits = _relative(lexical)
            else:
                dense = _dense(conn, tenant_id, ids, embedding, max(k, FUSION_DEPTH), 0.0, filters, space)
                missing = [hit.chunk_id for hit in lexical if hit.chunk_id not in {h.chunk_id for h in dense}]
                cosines = chunks.similarities(conn, tenant_id, missing, embedding, space)
                hits = fuse(dense, lexical, cosines, alpha)
            hits = [hit for hit in hits if hit.score >= threshold][:k]
        vector_stores.touch_vector_stores(conn, tenant_id, ids)
    cache.put_hits(key, hits)
    return hits


def _check(queries: list[str], k: int, threshold: float, ranker: str) -> None:
    if not queries or not all(q.strip() for q in queries):
        raise InvalidRequest("The query is empty.", param="query")
    if not 1 <= k <= DEPTH_MAX:
        raise InvalidRequest(f"The number of results must be between 1 and {DEPTH_MAX}, got {k}.", param="k")
    if ranker not in RANKERS:
        raise InvalidRequest(f"Unknown ranker {ranker!r}: one of {', '.join(RANKERS)}.", param="ranker")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidRequest(f"score_threshold must be between 0 and 1, got {threshold}.", param="score_threshold")


def _embedding(embedder: Embedder, queries: list[str], cache: QueryCache | None = None) -> np.ndarray:
    mean = (cache or QueryCache.disabled()).embed(embedder, queries).mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def _dense(
    conn: Connection,
    tenant_id: str,
    store_ids: list[str],
    embedding: np.ndarray,
    k: int,
    threshold: float,
    filters: Mapping[str, Any] | None,
    space: EmbeddingSpace | None = None,
) -> list[SearchHit]:
    size = chunks.store_chunk_count(conn, tenant_id, store_ids)
    exact = size <= EXACT_MAX_CHUNKS
    hits = chunks.search_chunks(conn, tenant_id, store_ids, embedding, k, threshold, filters, exact=exact, space=space)
    if not exact and len(hits) < min(k, size):
        # The index walk came back short (a selective filter, a store that is a sliver of its partition, or the
        # threshold): an exact scan says for sure.
        hits = chunks.search_chunks(
            conn, tenant_id, store_ids, embedding, k, threshold, filters, exact=True, space=space
        )
    return hits


def _relative(hits: list[SearchHit]) -> list[SearchHit]:
    """BM25 scores divided by the best one's, so that they lie in 0..1."""
    best = hits[0].score if hits and hits[0].score > 0 else 1.0
    return [replace(hit, score=hit.score / best) for hit in hits]


def fuse(
    dense: list[SearchHit], lexical: list[SearchHit], cosines: Mapping[int, float], alpha: float
) -> list[SearchHit]:
    """Both lists' chunks by alpha * dense + (1 - alpha) * lexical, each score min-max normalised over the
    candidates (a chunk the lexical list lacks scores 0 there); the result lies in 0..1."""
    by_id = {hit.chunk_id: hit for hit in [*lexical, *dense]}
    cosine = {**cosines, **{hit.chunk_id: hit.score for hit in dense}}
    words = {hit.chunk_id: hit.score for hit in lexical}
    dense_scale, words_scale = _min_max(cosine.values()), _min_max(words.values())
    scored = [
        replace(
            hit,
            score=alpha * dense_scale(cosine.get(cid, 0.0))
            + (1 - alpha) * (words_scale(words[cid]) if cid in words else 0.0),
        )
        for cid, hit in by_id.items()
    ]
    return sorted(scored, key=lambda hit: (-hit.score, hit.chunk_id))


def _min_max(values: Iterable[float]) -> Callable[[float], float]:
    found = list(values)
    low, high = (min(found), max(found)) if found else (0.0, 1.0)
    return lambda value: min(1.0, max(0.0, (value - low) / (high - low))) if high > low else 1.0
