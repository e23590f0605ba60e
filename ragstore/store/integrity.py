"""What `ragstore check` reads and repairs: chunks without a completed attachment, attachments without chunks or
without a job, counters that drifted from the chunks, chunks whose text changed after they were embedded."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from pgvector import HalfVector

from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one


def _rows(conn: Connection, name: str, tenant_id: str) -> list[dict[str, Any]]:
    return conn.execute(QUERIES[name], {"tenant_id": tenant_id}).fetchall()


def totals(conn: Connection, tenant_id: str) -> dict[str, int]:
    """How many stores, attached files and chunks the tenant has."""
    return one(conn.execute(QUERIES["integrity_totals"], {"tenant_id": tenant_id}))


def orphan_chunks(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Chunks without a completed attachment, counted by store and file."""
    return _rows(conn, "integrity_orphan_chunks", tenant_id)


def delete_orphan_chunks(conn: Connection, tenant_id: str) -> int:
    return one(conn.execute(QUERIES["delete_orphan_chunks"], {"tenant_id": tenant_id}))["deleted"]


def empty_files(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Completed attachments without chunks, with how they were chunked and their attributes."""
    return _rows(conn, "integrity_empty_files", tenant_id)


def stuck_files(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """In-progress attachments without a queued or running job."""
    return _rows(conn, "integrity_stuck_files", tenant_id)


def duplicate_files(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Second and later attachments of the same bytes to one store, with the first one's file id."""
    return _rows(conn, "integrity_duplicate_files", tenant_id)


def file_count_mismatches(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Completed attachments whose counters differ from their chunks', with both."""
    return _rows(conn, "integrity_file_counts", tenant_id)


def recount_files(conn: Connection, tenant_id: str, keys: Sequence[tuple[str, str]]) -> int:
    """Set the counters of these (store, file) attachments from their chunks; return how many were set."""
    if not keys:
        return 0
    params = {"tenant_id": tenant_id, "store_ids": [k[0] for k in keys], "file_ids": [k[1] for k in keys]}
    return len(conn.execute(QUERIES["recount_files"], params).fetchall())


def stale_chunks(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Chunks whose content hash or embedding norm is wrong."""
    return _rows(conn, "integrity_stale_chunks", tenant_id)


def missing_embeddings(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Chunks without a vector in a space that searches or a rollback rely on, with that space (None: chunks)."""
    return _rows(conn, "integrity_missing_embeddings", tenant_id)


def chunks_to_reembed(conn: Connection, tenant_id: str, chunk_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The chunks that still exist: their store, file, text and text-search language."""
    return conn.execute(QUERIES["chunks_to_reembed"], {"tenant_id": tenant_id, "ids": list(chunk_ids)}).fetchall()


def reembed_chunk(
    conn: Connection,
    tenant_id: str,
    chunk_id: int,
    text: str,
    embedding: np.ndarray | None,
    token_count: int,
    language: str,
) -> tuple[str, str] | None:
    """Store a chunk's new embedding (None: its store's first space was dropped), hash and text-search data, if its
    text is still text; return its (store, file)."""
    row = conn.execute(
        QUERIES["reembed_chunk"],
        {
            "tenant_id": tenant_id,
            "id": chunk_id,
            "text": text,
            "embedding": HalfVector(embedding) if embedding is not None else None,
            "content_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "token_count": token_count,
            "language": language,
        },
    ).fetchone()
    return (row["vector_store_id"], row["file_id"]) if row else None


def upsert_chunk_vector(conn: Connection, tenant_id: str, space_id: str, chunk_id: int, embedding: np.ndarray) -> None:
    """A chunk's vector in a space other than chunks.embedding, replacing the one it has."""
    conn.execute(
        QUERIES["upsert_chunk_vector"],
        {"tenant_id": tenant_id, "space_id": space_id, "chunk_id": chunk_id, "embedding": HalfVector(embedding)},
    )
