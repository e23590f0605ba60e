"""Embedding spaces and the chunk vectors they hold (see migration 0012)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pgvector import HalfVector
from psycopg import sql

from ragstore.models import EmbeddingSpace
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

_SPACE = {"columns": sql.SQL(QUERIES["space_columns"])}

# The build parameters of ragstore's HNSW indexes: each space's (below) and chunks_embedding (migration 0014 spells
# them out; a test holds the two equal). pgvector's defaults, m 16 and ef_construction 64, reach recall@10 0.87 at
# hnsw.ef_search 100 on 1M clustered 384-d vectors; these reach 0.97, for a build about twice as long.
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128


def spaces_of_store(conn: Connection, tenant_id: str, store_id: str) -> list[EmbeddingSpace]:
    query = sql.SQL(QUERIES["spaces_of_store"]).format(**_SPACE)
    rows = conn.execute(query, {"tenant_id": tenant_id, "store_id": store_id}).fetchall()
    return [EmbeddingSpace(**row) for row in rows]


def get_space(conn: Connection, tenant_id: str, space_id: str) -> EmbeddingSpace | None:
    row = conn.execute(
        sql.SQL(QUERIES["get_space"]).format(**_SPACE), {"tenant_id": tenant_id, "id": space_id}
    ).fetchone()
    return EmbeddingSpace(**row) if row else None


def active_space_of_store(conn: Connection, tenant_id: str, store_id: str) -> EmbeddingSpace | None:
    row = conn.execute(
        sql.SQL(QUERIES["active_space_of_store"]).format(**_SPACE), {"tenant_id": tenant_id, "store_id": store_id}
    ).fetchone()
    return EmbeddingSpace(**row) if row else None


def insert_space(conn: Connection, tenant_id: str, space: EmbeddingSpace) -> None:
    conn.execute(
        QUERIES["insert_space"],
        {
            "tenant_id": tenant_id,
            "id": space.id,
            "store_id": space.vector_store_id,
            "model": space.model,
            "dimension": space.dimension,
            "base_url": space.base_url,
            "api_key_env": space.api_key_env,
            "location": space.location,
            "state": space.state,
            "provider_id": space.provider_id,
        },
    )


def set_state(conn: Connection, tenant_id: str, space_id: str, state: str) -> None:
    conn.execute(QUERIES["set_space_state"], {"tenant_id": tenant_id, "id": space_id, "state": state})


def delete_space(conn: Connection, tenant_id: str, space_id: str) -> None:
    """Delete a space and (by cascade) its vectors."""
    conn.execute(QUERIES["delete_space"], {"tenant_id": tenant_id, "id": space_id})


def lock_store(conn: Connection, tenant_id: str, store_id: str) -> bool:
    """Serialise changes to a store's spaces; False if there is no such store."""
    params = {"tenant_id": tenant_id, "store_id": store_id}
    return conn.execute(QUERIES["lock_store_spaces"], params).fetchone() is not None


def set_active(conn: Connection, tenant_id: str, store_id: str, space: EmbeddingSpace) -> None:
    conn.execute(
        QUERIES["set_active_space"],
        {
            "tenant_id": tenant_id,
            "store_id": store_id,
            "space_id": space.id,
            "model": space.model,
            "dimension": space.dimension,
            "provider_id": space.provider_id,
        },
    )


def chunks_missing_vectors(
    conn: Connection, tenant_id: str, store_id: str, space_id: str, limit: int
) -> list[dict[str, Any]]:
    """Up to limit chunks (id, text) of the store that have no vector in the space yet."""
    params = {"tenant_id": tenant_id, "store_id": store_id, "space_id": space_id, "limit": limit}
    return conn.execute(QUERIES["chunks_missing_vectors"], params).fetchall()


def count_missing_vectors(conn: Connection, tenant_id: str, store_id: str, space_id: str) -> int:
    params = {"tenant_id": tenant_id, "store_id": store_id, "space_id": space_id}
    return one(conn.execute(QUERIES["count_missing_vectors"], params))["n"]


def insert_vectors(
    conn: Connection, tenant_id: str, space_id: str, chunk_ids: Sequence[int], embeddings: np.ndarray
) -> None:
    """Store the chunks' vectors in the space (a chunk that has one already keeps it)."""
    rows = [
        {"tenant_id": tenant_id, "space_id": space_id, "chunk_id": chunk_id, "embedding": HalfVector(vector)}
        for chunk_id, vector in zip(chunk_ids, embeddings, strict=True)
    ]
    with conn.cursor() as cur:
        cur.executemany(QUERIES["insert_vector"], rows)


def clear_primary(conn: Connection, tenant_id: str, store_id: str) -> None:
    """Empty chunks.embedding for the store's chunks (its first space, dropped)."""
    conn.execute(QUERIES["clear_primary_embeddings"], {"tenant_id": tenant_id, "store_id": store_id})


def sample_texts(conn: Connection, tenant_id: str, store_id: str, every: int, limit: int) -> list[str]:
    params = {"tenant_id": tenant_id, "store_id": store_id, "every": every, "limit": limit}
    return [row["text"] for row in conn.execute(QUERIES["sample_chunk_texts"], params)]


def index_name(space_id: str) -> str:
    return f"chunk_vectors_hnsw_{space_id.removeprefix('emb_')}"


def create_index(conn: Connection, space: EmbeddingSpace) -> None:
    """The space's HNSW index, built without blocking writes (conn must be in autocommit, as the owner), with the
    memory its graph needs; the session's maintenance_work_mem is as it was afterwards."""
    query = sql.SQL(QUERIES["create_space_index"]).format(
        name=sql.Identifier(index_name(space.id)),
        dimension=sql.Literal(space.dimension),
        space_id=sql.Literal(space.id),
        m=sql.Literal(HNSW_M),
        ef_construction=sql.Literal(HNSW_EF_CONSTRUCTION),
    )
    previous = one(conn.execute(QUERIES["build_memory"]))["value"]
    conn.execute(QUERIES["raise_build_memory_for_space"], {"space_id": space.id, "dimension": space.dimension})
    try:
        conn.execute(query)
    finally:
        conn.execute(QUERIES["set_build_memory"], {"value": previous})


def drop_index(conn: Connection, space_id: str) -> None:
    conn.execute(sql.SQL(QUERIES["drop_space_index"]).format(name=sql.Identifier(index_name(space_id))))
