"""Search: the query embedded with the stores' own model, nearest chunks by cosine similarity, filtered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragstore import telemetry
from ragstore.cache import QueryCache
from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder, RemoteEmbedder
from ragstore.models import EmbeddingSpace, SearchHit, VectorStore
from ragstore.service import fusion, spaces, stores
from ragstore.store import chunks, vector_stores
from ragstore.store.db import Connection, Database
from ragstore.store.replicas import fall_back
from ragstore.store.vector_stores import SearchedStore

# The most results a user may ask a search for, OpenAI's limit on max_num_results: api/schemas.py checks against this
# (a larger one is a 400 with param max_num_results).
MAX_RESULTS = 50
# The deepest a search ranks, which search() checks k against: internal callers go beyond MAX_RESULTS (`ragstore eval`
# reads recall@100 from 100 hits, evaluation.DEPTH). Not the API's limit: that is MAX_RESULTS.
DEPTH_MAX = 100
RANKERS = ("dense", "lexical", "hybrid")
# Hybrid ranking: how many candidates each ranker brings; fusion.py ranks them (README, Retrieval quality).
FUSION_DEPTH = 100
# Stores up to this many chunks are searched exactly, which never misses. bench/tenants.py measured the exact
# scan at about 1.1 ms per thousand chunks (5.4 ms at 5k, 43 ms at 50k) against 1.7-2.7 ms for the HNSW walk: up
# to 10k chunks, certainty costs at most ~11 ms.
EXACT_MAX_CHUNKS = 10_000
# Stores up to SLIVER_MAX_CHUNKS that hold less than SLIVER_SHARE of their partition's rows are searched exactly
# too: see exact_scan.
SLIVER_SHARE = 0.02
SLIVER_MAX_CHUNKS = 15_000
# A search writes its stores' last_active_at (which expires_after runs from) only once it is older than this: one
# UPDATE a minute per store at most, instead of one per search. last_active_at, the expires_at it moves and the
# listing by last activity lag the latest search by up to this much.
TOUCH_AFTER_SECONDS = 60


@dataclass(frozen=True)
class Scope:
    """What a search covers: its stores (in the order asked), their embedding space, the embedder of its queries and
    their text-search language, their chunks, the rows of the partition whose HNSW index a walk would cross, and the
    stores due for a touch."""

    stores: list[VectorStore]
    space: EmbeddingSpace | None
    embedder: Embedder
    language: str
    chunks: int
    partition_chunks: int
    stale: list[str]

    @property
    def store_ids(self) -> list[str]:
        return [store.id for store in self.stores]


@telemetry.search_timer
@fall_back
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
    rrf_k: float | None = None,
    cache: QueryCache | None = None,
) -> list[SearchHit]:
    """The k best chunks in the stores, best first, each with a score in 0..1.

    ranker: dense (cosine similarity, floored at 0), lexical (BM25 over the query's idf mass, capped at 1) or hybrid
    (fusion.rare_rescue: the cosine, blended with the lexical score when the query holds a rare term; with alpha,
    the former min-max fusion at that dense weight; with rrf_k, reciprocal rank fusion). Several queries are
    searched as one: the mean of their embeddings, and all their words. With a cache, results and the query
    embedding are looked up there first.
    """
    queries = [query] if isinstance(query, str) else list(query)
    _check(queries, k, threshold, ranker)
    cache = cache or QueryCache.disabled()
    options: dict[str, Any] = {"k": k, "threshold": threshold, "filters": filters, "ranker": ranker, "alpha": alpha}
    if rrf_k is not None:  # only then, so that the cache's keys of every other search stay as they were
        options["rrf_k"] = rrf_k
    with db.reader(tenant_id) as conn:  # a replica when one is up (a read-only transaction: nothing here writes)
        found = stores.for_search(conn, tenant_id, store_ids, TOUCH_AFTER_SECONDS)
        groups = spaces.by_space([searched.store for searched in found])
        if len(groups) <= 1:
            scope = _scope(found, embedder)
            key = cache.search_key(scope.embedder, tenant_id, scope.stores, queries, **options)
            cached = hits = cache.get_hits(key)
            if hits is None and (ranker == "lexical" or not isinstance(scope.embedder, RemoteEmbedder)):
                # A model in this process embeds the query here, in the transaction: a few ms, none if cached.
                embedding = None if ranker == "lexical" else _embedding(scope.embedder, queries, cache)
                hits = _rank(conn, tenant_id, scope, queries, embedding, **options)
    if len(groups) > 1:  # each space searched with its own query embedding, then merged by rank
        lists = [
            search(db, embedder, tenant_id, ids_, query, k, threshold, filters, ranker, alpha, rrf_k=rrf_k, cache=cache)
            for ids_ in groups
        ]
        return merge_by_rank(lists, k)
    if scope.stale:  # the write goes to the primary, in a transaction of its own
        with db.tenant(tenant_id) as conn:
            vector_stores.touch_vector_stores(conn, tenant_id, scope.stale)
    if hits is None:  # an endpoint embeds it, between two transactions: no connection waits on the network
        embedding = _embedding(scope.embedder, queries, cache)
        with db.reader(tenant_id) as conn:
            hits = _rank(conn, tenant_id, scope, queries, embedding, **options)
    if cached is None:
        cache.put_hits(key, hits)
    return hits


def exact_scan(chunks: int, partition_chunks: int) -> bool:
    """Whether stores of this many chunks are scanned exactly rather than through the HNSW index of a partition of
    partition_chunks rows: up to EXACT_MAX_CHUNKS always, and up to SLIVER_MAX_CHUNKS when they hold less than
    SLIVER_SHARE of the partition.

    The walk crosses the partition's whole graph and keeps the stores' chunks only, so it visits about k / share
    tuples: the smaller the share, the slower and the less sure it gets, while the exact scan's cost per chunk stays
    the same. bench/exact_boundary.py measures where the two cross, which sets the thresholds (README, "Exact scan
    or HNSW walk").
    """
    sliver = chunks < SLIVER_SHARE * partition_chunks
    return chunks <= EXACT_MAX_CHUNKS or (sliver and chunks <= SLIVER_MAX_CHUNKS)


def merge_by_rank(lists: Sequence[list[SearchHit]], k: int) -> list[SearchHit]:
    """The hits of searches in different embedding spaces as one list: every space's best, then every space's
    second, and so on (ties by score), the first k. Cosines of different models are not on one scale (one model's
    0.5 may be another's 0.8), ranks are; each hit keeps the score its own space gave it."""
    ranked = [(rank, -hit.score, i, hit) for i, hits in enumerate(lists) for rank, hit in enumerate(hits)]
    return [hit for *_, hit in sorted(ranked, key=lambda item: item[:3])][:k]


def _scope(found: Sequence[SearchedStore], embedder: Embedder) -> Scope:
    """The stores of one space (expired ones or of another model refused) and what searching them takes."""
    listed = [searched.store for searched in found]
    space = found[0].space if found else None
    if listed:
        embedder = spaces.query_embedder(embedder, listed[0], space)
    for store in listed:
        stores.check_searchable(store, embedder)
    size = sum({searched.store.id: searched.chunks for searched in found}.values())
    # A space of its own (chunk_vectors) has an index per store: its walk crosses only the store's vectors.
    in_partition = space is None or space.in_chunks
    partition = max((searched.partition_chunks for searched in found), default=0) if in_partition else size
    # Query words are analysed in the first store's language (stores searched together normally share one).
    language = listed[0].text_search_language if listed else "english"
    stale = sorted({searched.store.id for searched in found if searched.stale})
    return Scope(listed, space, embedder, language, size, partition, stale)


def _rank(
    conn: Connection,
    tenant_id: str,
    scope: Scope,
    queries: list[str],
    embedding: np.ndarray | None,
    k: int,
    threshold: float,
    filters: Mapping[str, Any] | None,
    ranker: str,
    alpha: float | None,
    rrf_k: float | None = None,
) -> list[SearchHit]:
    """The hits of a search, inside the caller's transaction."""
    if ranker != "lexical" and embedding is None:
        raise ValueError(f"The {ranker} ranker needs the query's embedding.")
    if ranker == "dense" and embedding is not None:
        return _dense(conn, tenant_id, scope, embedding, k, threshold, filters)
    ids = scope.store_ids
    # The lexical ranker's order is BM25's, so its k best are all it needs; fusion reads the top FUSION_DEPTH.
    depth = k if ranker == "lexical" else max(k, FUSION_DEPTH)
    words = " ".join(queries)
    default_fusion = alpha is None and rrf_k is None and not filters
    dense = None if embedding is None else _dense(conn, tenant_id, scope, embedding, depth, 0.0, filters)
    if dense is not None and default_fusion and not _rare(conn, tenant_id, scope, words, dense):
        # rare_rescue weighs lexical scores 0: the ranking is the cosine's, which the dense list holds.
        return [hit for hit in fusion.fuse_hits(dense, [], {}, (), 0) if hit.score >= threshold][:k]
    lexical, dfs, documents = chunks.search_chunks_lexical_weighted(
        conn, tenant_id, ids, words, depth, filters, scope.language
    )
    if ranker == "lexical" or embedding is None or dense is None:
        hits = fusion.lexical_hits(lexical, dfs, documents)
    else:
        missing = [hit.chunk_id for hit in lexical if hit.chunk_id not in {h.chunk_id for h in dense}]
        cosines = chunks.similarities(conn, tenant_id, missing, embedding, scope.space)
        hits = fusion.fuse_hits(dense, lexical, cosines, dfs, documents, alpha, rrf_k)
    return [hit for hit in hits if hit.score >= threshold][:k]


def _rare(conn: Connection, tenant_id: str, scope: Scope, words: str, dense: list[SearchHit]) -> bool:
    """Whether the query holds a term rare enough for rare_rescue to weigh lexical scores (fusion.rescue_floor),
    counting each term's chunks only up to that floor, among the dense hits first; True when unsure (the chunk
    count moved meanwhile)."""
    floor = fusion.rescue_floor(scope.chunks)
    ids = [hit.chunk_id for hit in dense]
    dfs, documents = chunks.lexical_rarity(conn, tenant_id, scope.store_ids, words, floor, ids, scope.language)
    return documents != scope.chunks or any(0 < df < floor for df in dfs)


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
    scope: Scope,
    embedding: np.ndarray,
    k: int,
    threshold: float,
    filters: Mapping[str, Any] | None,
) -> list[SearchHit]:
    exact = exact_scan(scope.chunks, scope.partition_chunks)
    ids, space = scope.store_ids, scope.space
    hits = chunks.search_chunks(conn, tenant_id, ids, embedding, k, threshold, filters, exact=exact, space=space)
    if not exact and len(hits) < min(k, scope.chunks):
        # The index walk came back short (a selective filter, a store that is a sliver of its partition, or the
        # threshold): an exact scan says for sure.
        hits = chunks.search_chunks(conn, tenant_id, ids, embedding, k, threshold, filters, exact=True, space=space)
    return hits
