"""Chunks: written a file at a time, searched by cosine distance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pgvector import HalfVector
from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.models import EmbeddingSpace, SearchHit
from ragstore.store.filters import compile_filter_named
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

# How many candidates the HNSW scan may visit per query, and how far its iterative scan may go to fill k
# results inside the requested stores (pgvector 0.8).
EF_SEARCH = 100
MAX_SCAN_TUPLES = 20_000


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as the chunks table holds it, but its ids and vectors."""

    index: int
    text: str
    token_count: int
    page: int | None
    attributes: Mapping[str, Any]  # its file's attributes over its doc_metadata, which filters read
    doc_metadata: Mapping[str, Any]
    content_hash: str


def insert_chunks(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    file_id: str,
    chunks: Sequence[ChunkRow],
    embeddings: np.ndarray | None,
    language: str = "english",
) -> list[int]:
    """Insert a file's chunks (inside the caller's transaction), analysed for search in the given language; their
    ids, in order. embeddings: the store's first space, or None when that space was dropped."""
    rows = [
        {
            "tenant_id": tenant_id,
            "vector_store_id": store_id,
            "file_id": file_id,
            "chunk_index": chunk.index,
            "page": chunk.page,
            "text": chunk.text,
            "token_count": chunk.token_count,
            "attributes": Jsonb(dict(chunk.attributes)),
            "doc_metadata": Jsonb(dict(chunk.doc_metadata)),
            "content_hash": chunk.content_hash,
            "embedding": HalfVector(vector) if vector is not None else None,
            "language": language,
        }
        for chunk, vector in zip(chunks, embeddings if embeddings is not None else [None] * len(chunks), strict=True)
    ]
    ids: list[int] = []
    if not rows:
        return ids
    with conn.cursor() as cur:
        cur.executemany(QUERIES["insert_chunk"], rows, returning=True)
        while True:
            ids.append(one(cur)["id"])
            if not cur.nextset():
                break
    return ids


def search_chunks(
    conn: Connection,
    tenant_id: str,
    store_ids: list[str],
    embedding: np.ndarray,
    limit: int,
    threshold: float,
    filters: Mapping[str, Any] | None = None,
    *,
    exact: bool = False,
    space: EmbeddingSpace | None = None,
) -> list[SearchHit]:
    """The chunks nearest to embedding within the stores, best first (inside the caller's transaction).

    exact: score every chunk of the stores instead of walking the HNSW index. space: the embedding space to search
    (None, or a space in chunks: chunks.embedding).
    """
    condition, filter_params = compile_filter_named(filters) if filters else (sql.SQL("TRUE"), {})
    query = sql.SQL(QUERIES["search_chunks_exact" if exact else "search_chunks"]).format(
        filter=condition, **vector_source(space)
    )
    params = {
        "tenant_id": tenant_id,
        "store_ids": store_ids,
        "embedding": HalfVector(embedding),
        "limit": limit,
        "threshold": threshold,
        **filter_params,
    }
    if exact:
        return _hits(conn.execute(query, params).fetchall())
    with conn.pipeline():  # the walk's settings and the query in one round trip
        conn.execute(QUERIES["tune_hnsw"], {"ef_search": str(max(EF_SEARCH, limit)), "max_scan": str(MAX_SCAN_TUPLES)})
        return _hits(conn.execute(query, params).fetchall())


def _hits(rows: list[dict[str, Any]]) -> list[SearchHit]:
    return [
        SearchHit(
            r["id"],
            r["vector_store_id"],
            r["file_id"],
            r["filename"],
            r["chunk_index"],
            r["page"],
            r["text"],
            float(r["score"]),
            r["attributes"],
        )
        for r in rows
    ]


def store_chunk_count(conn: Connection, tenant_id: str, store_ids: list[str]) -> int:
    """Chunks of the stores' completed files."""
    return one(conn.execute(QUERIES["store_chunk_count"], {"tenant_id": tenant_id, "store_ids": store_ids}))["n"]


# BM25's parameters, as Lucene's defaults.
BM25_K1, BM25_B = 1.2, 0.75


def search_chunks_lexical(
    conn: Connection,
    tenant_id: str,
    store_ids: list[str],
    query: str,
    limit: int,
    filters: Mapping[str, Any] | None = None,
    language: str = "english",
) -> list[SearchHit]:
    """The chunks best matching query's words by BM25, best first; score is the raw BM25 (unbounded)."""
    return search_chunks_lexical_weighted(conn, tenant_id, store_ids, query, limit, filters, language)[0]


def search_chunks_lexical_weighted(
    conn: Connection,
    tenant_id: str,
    store_ids: list[str],
    query: str,
    limit: int,
    filters: Mapping[str, Any] | None = None,
    language: str = "english",
) -> tuple[list[SearchHit], tuple[int, ...], int]:
    """search_chunks_lexical's hits, the document frequency of each query term in the stores (0 for a term none
    holds) and the stores' chunk count; both empty / 0 when nothing matched.

    Unfiltered, by the MaxScore walk of search_chunks_lexical_top (the same hits and scores); filtered, by scoring
    every candidate that passes the filter."""
    params = {
        "tenant_id": tenant_id,
        "store_ids": store_ids,
        "query": query,
        "language": language,
        "limit": limit,
        "k1": BM25_K1,
        "b": BM25_B,
    }
    if filters:
        condition, filter_params = compile_filter_named(filters)
        statement = sql.SQL(QUERIES["search_chunks_lexical"]).format(filter=condition)
        rows = conn.execute(statement, {**params, **filter_params}).fetchall()
    else:
        rows = conn.execute(QUERIES["search_chunks_lexical_top"], {**params, "no_cap": NO_CAP}).fetchall()
    if not rows:
        return [], (), 0
    return _hits(rows), tuple(int(df) for df in rows[0]["dfs"]), int(rows[0]["documents"])


NO_CAP = 2**63 - 1


def lexical_rarity(
    conn: Connection,
    tenant_id: str,
    store_ids: list[str],
    query: str,
    cap: int,
    ids: Sequence[int] = (),
    language: str = "english",
) -> tuple[tuple[int, ...], int]:
    """How many chunks of the stores hold each query term, counted up to cap (in no particular order), and the
    stores' chunk count. ids: chunks already read (the dense candidates), where common terms are counted first."""
    params = {
        "tenant_id": tenant_id,
        "store_ids": store_ids,
        "query": query,
        "language": language,
        "cap": cap,
        "ids": list(ids),
    }
    row = one(conn.execute(QUERIES["lexical_rarity"], params))
    return tuple(int(df) for df in row["dfs"]), int(row["documents"])


def similarities(
    conn: Connection,
    tenant_id: str,
    ids: list[int],
    embedding: np.ndarray,
    space: EmbeddingSpace | None = None,
) -> dict[int, float]:
    """Cosine similarity of the given chunks to embedding, in the space."""
    if not ids:
        return {}
    query = sql.SQL(QUERIES["chunk_similarities"]).format(**vector_source(space))
    rows = conn.execute(query, {"tenant_id": tenant_id, "ids": ids, "embedding": HalfVector(embedding)}).fetchall()
    return {row["id"]: float(row["similarity"]) for row in rows}


def vector_source(space: EmbeddingSpace | None) -> dict[str, sql.Composable]:
    """Where a search reads embeddings: chunks.embedding, or the space's chunk_vectors, cast to its dimension so
    that its partial HNSW index (on that very expression, for that space id) serves the ordering."""
    if space is None or space.in_chunks:
        return {"source": sql.SQL("chunks c"), "vector": sql.SQL("c.embedding")}
    return {
        "source": sql.SQL(
            "chunks c JOIN chunk_vectors v ON v.tenant_id = c.tenant_id AND v.chunk_id = c.id AND v.space_id = {}"
        ).format(sql.Literal(space.id)),
        "vector": sql.SQL("(v.embedding::halfvec({}))").format(sql.Literal(space.dimension)),
    }
