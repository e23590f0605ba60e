"""Vector stores, their files and their file batches."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ragstore.models import FileCounts, FileFailure, VectorStore
from ragstore.store.queries import QUERIES


def insert_vector_store(
    conn: psycopg.Connection, tenant_id: str, store_id: str, name: str, model: str, dim: int
) -> VectorStore:
    row = conn.execute(
        QUERIES["insert_vector_store"],
        {
            "tenant_id": tenant_id,
            "id": store_id,
            "name": name,
            "description": None,
            "metadata": None,
            "embedding_model": model,
            "embedding_dim": dim,
        },
    ).fetchone()
    return VectorStore(**row)


def get_vector_store(conn: psycopg.Connection, tenant_id: str, store_id: str) -> VectorStore | None:
    row = conn.execute(QUERIES["get_vector_store"], {"tenant_id": tenant_id, "id": store_id}).fetchone()
    return VectorStore(**row) if row else None


def vector_stores_by_name(conn: psycopg.Connection, tenant_id: str, name: str) -> list[VectorStore]:
    rows = conn.execute(QUERIES["vector_stores_by_name"], {"tenant_id": tenant_id, "name": name}).fetchall()
    return [VectorStore(**row) for row in rows]


def touch_vector_stores(conn: psycopg.Connection, tenant_id: str, store_ids: list[str]) -> None:
    conn.execute(QUERIES["touch_vector_stores"], {"tenant_id": tenant_id, "ids": store_ids})


def insert_file_batch(conn: psycopg.Connection, tenant_id: str, batch_id: str, store_id: str) -> None:
    conn.execute(QUERIES["insert_file_batch"], {"tenant_id": tenant_id, "id": batch_id, "vector_store_id": store_id})


def batch_file_counts(conn: psycopg.Connection, tenant_id: str, batch_id: str) -> FileCounts:
    row = conn.execute(QUERIES["batch_file_counts"], {"tenant_id": tenant_id, "batch_id": batch_id}).fetchone()
    return FileCounts(**row)


def batch_failures(conn: psycopg.Connection, tenant_id: str, batch_id: str) -> list[FileFailure]:
    rows = conn.execute(QUERIES["batch_failures"], {"tenant_id": tenant_id, "batch_id": batch_id}).fetchall()
    return [FileFailure(r["filename"], r["last_error_code"], r["last_error_message"]) for r in rows]


def insert_vector_store_file(
    conn: psycopg.Connection,
    tenant_id: str,
    store_id: str,
    file_id: str,
    batch_id: str | None,
    chunk_size: int,
    chunk_overlap: int,
    attributes: dict[str, Any] | None,
) -> None:
    conn.execute(
        QUERIES["insert_vector_store_file"],
        {
            "tenant_id": tenant_id,
            "vector_store_id": store_id,
            "file_id": file_id,
            "batch_id": batch_id,
            "chunk_size_tokens": chunk_size,
            "chunk_overlap_tokens": chunk_overlap,
            "attributes": Jsonb(attributes) if attributes is not None else None,
        },
    )


def lock_vector_store_file(
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_id: str
) -> dict[str, Any] | None:
    """The file's row, locked until the transaction ends (None once the file was detached)."""
    return conn.execute(
        QUERIES["lock_vector_store_file"],
        {"tenant_id": tenant_id, "vector_store_id": store_id, "file_id": file_id},
    ).fetchone()


def get_vector_store_file(
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_id: str
) -> dict[str, Any] | None:
    return conn.execute(
        QUERIES["get_vector_store_file"],
        {"tenant_id": tenant_id, "vector_store_id": store_id, "file_id": file_id},
    ).fetchone()


def complete_vector_store_file(
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_id: str, usage_bytes: int
) -> None:
    conn.execute(
        QUERIES["complete_vector_store_file"],
        {"tenant_id": tenant_id, "vector_store_id": store_id, "file_id": file_id, "usage_bytes": usage_bytes},
    )


def fail_vector_store_file(
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_id: str, code: str, message: str
) -> None:
    conn.execute(
        QUERIES["fail_vector_store_file"],
        {
            "tenant_id": tenant_id,
            "vector_store_id": store_id,
            "file_id": file_id,
            "code": code,
            "message": message,
        },
    )
