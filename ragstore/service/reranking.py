"""A search whose top hits a reranking model reorders (ranking_options.rerank, RAGSTORE_RERANK_BASE_URL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ragstore.cache import QueryCache
from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder
from ragstore.ingest.rerank import Reranker
from ragstore.models import SearchHit
from ragstore.service import search
from ragstore.store.db import Database


def wanted(asked: bool | None, reranker: Reranker | None, by_default: bool) -> Reranker | None:
    """The reranker a search uses: the request's choice (ranking_options.rerank), else the server's default; asking
    for it with none configured is an error."""
    if asked and reranker is None:
        raise InvalidRequest(
            "ranking_options.rerank needs a reranking endpoint: set RAGSTORE_RERANK_BASE_URL.",
            param="ranking_options.rerank",
        )
    return reranker if (by_default if asked is None else asked) else None


def search_reranked(
    db: Database,
    embedder: Embedder,
    reranker: Reranker | None,
    tenant_id: str,
    store_ids: Sequence[str],
    query: str | Sequence[str],
    k: int = 10,
    threshold: float = 0.0,
    filters: Mapping[str, Any] | None = None,
    ranker: str = "hybrid",
    alpha: float | None = None,
    *,
    rrf_k: float | None = None,
    cache: QueryCache | None = None,
) -> list[SearchHit]:
    """search() itself without a reranker. With one: search()'s best max(k, reranker.candidates) hits (no
    threshold), reordered by the reranker; each hit's score is then the reranker's relevance score capped to 0..1,
    which the threshold applies to. The model is called after search() has returned its connection: no transaction
    waits on the network."""
    if reranker is None:
        return search.search(
            db, embedder, tenant_id, store_ids, query, k, threshold, filters, ranker, alpha, rrf_k=rrf_k, cache=cache
        )
    depth = min(max(k, reranker.candidates), search.DEPTH_MAX)
    hits = search.search(
        db, embedder, tenant_id, store_ids, query, depth, 0.0, filters, ranker, alpha, rrf_k=rrf_k, cache=cache
    )
    words = query if isinstance(query, str) else " ".join(query)
    ordered = reranker.rerank(words, [hit.text for hit in hits])
    reranked = [replace(hits[index], score=min(1.0, max(0.0, score))) for index, score in ordered]
    return [hit for hit in reranked if hit.score >= threshold][:k]
