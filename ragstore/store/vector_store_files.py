"""The files of vector stores, and the batches that attach them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.models import FileBatch, FileChunk, FileCounts, FileFailure, PageRequest, VectorStoreFile
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

_COLUMNS = sql.SQL(QUERIES["vector_store_file_columns"])


def _key(tenant_id: str, store_id: str, file_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "vector_store_id": store_id, "file_id": file_id}


def attach_vector_store_file(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    file_id: str,
    batch_id: str | None,
    chunk_size: int,
    chunk_overlap: int,
    attributes: dict[str, Any] | None,
    attach_id: str,
) -> None:
    """Attach a file to a store, or start it over if it is there already (without its old chunks)."""
    conn.execute(
        QUERIES["attach_vector_store_file"],
        {
            **_key(tenant_id, store_id, file_id),
            "batch_id": batch_id,
            "chunk_size_tokens": chunk_size,
            "chunk_overlap_tokens": chunk_overlap,
            "attributes": Jsonb(attributes) if attributes is not None else None,
            "attach_id": attach_id,
        },
    )
    conn.execute(QUERIES["delete_file_chunks"], _key(tenant_id, store_id, file_id))


def get_vector_store_file(conn: Connection, tenant_id: str, store_id: str, file_id: str) -> VectorStoreFile | None:
    query = sql.SQL(QUERIES["get_vector_store_file_object"]).format(columns=_COLUMNS)
    row = conn.execute(query, _key(tenant_id, store_id, file_id)).fetchone()
    return VectorStoreFile(**row) if row else None


def list_vector_store_files(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    page: PageRequest,
    cursor_at: datetime | None,
    *,
    status: str | None = None,
    batch_id: str | None = None,
) -> tuple[list[VectorStoreFile], bool]:
    params = {"tenant_id": tenant_id, "vector_store_id": store_id, "status": status, "batch_id": batch_id}
    rows, has_more = fetch_page(conn, "list_vector_store_file_objects", params, page, cursor_at, columns=_COLUMNS)
    return [VectorStoreFile(**row) for row in rows], has_more


def lock_vector_store_file(conn: Connection, tenant_id: str, store_id: str, file_id: str) -> dict[str, Any] | None:
    """The file's row, locked until the transaction ends (None once the file was detached)."""
    return conn.execute(QUERIES["lock_vector_store_file"], _key(tenant_id, store_id, file_id)).fetchone()


def complete_vector_store_file(
    conn: Connection, tenant_id: str, store_id: str, file_id: str, usage_bytes: int, chunk_count: int
) -> None:
    conn.execute(
        QUERIES["complete_vector_store_file"],
        {**_key(tenant_id, store_id, file_id), "usage_bytes": usage_bytes, "chunk_count": chunk_count},
    )


def fail_vector_store_file(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    file_id: str,
    code: str,
    message: str,
    attach_id: str | None = None,
) -> None:
    """Fail the file if it is in progress (and still under attach_id, when given)."""
    conn.execute(
        QUERIES["fail_vector_store_file"],
        {**_key(tenant_id, store_id, file_id), "code": code, "message": message, "attach_id": attach_id},
    )


def set_vector_store_file_attributes(
    conn: Connection, tenant_id: str, store_id: str, file_id: str, attributes: dict[str, Any] | None
) -> None:
    """New attributes for the file and its chunks (each chunk keeps its own document metadata beneath them)."""
    conn.execute(
        QUERIES["set_vector_store_file_attributes"],
        {**_key(tenant_id, store_id, file_id), "attributes": Jsonb(attributes) if attributes is not None else None},
    )


def delete_vector_store_file(conn: Connection, tenant_id: str, store_id: str, file_id: str) -> bool:
    return conn.execute(QUERIES["delete_vector_store_file"], _key(tenant_id, store_id, file_id)).fetchone() is not None


def file_chunk_texts(conn: Connection, tenant_id: str, store_id: str, file_id: str) -> Iterator[str]:
    for row in conn.execute(QUERIES["file_chunk_texts"], _key(tenant_id, store_id, file_id)):
        yield row["text"]


def file_chunks(conn: Connection, tenant_id: str, store_id: str, file_id: str) -> Iterator[FileChunk]:
    for row in conn.execute(QUERIES["file_chunks"], _key(tenant_id, store_id, file_id)):
        yield FileChunk(row["chunk_index"], row["page"], row["text"], row["token_count"])


def insert_file_batch(conn: Connection, tenant_id: str, batch_id: str, store_id: str) -> None:
    conn.execute(QUERIES["insert_file_batch"], {"tenant_id": tenant_id, "id": batch_id, "vector_store_id": store_id})


def get_file_batch(conn: Connection, tenant_id: str, store_id: str, batch_id: str) -> FileBatch | None:
    row = conn.execute(
        QUERIES["get_file_batch"], {"tenant_id": tenant_id, "vector_store_id": store_id, "id": batch_id}
    ).fetchone()
    return _batch(row) if row is not None else None


def _batch(row: dict[str, Any]) -> FileBatch:
    counts = FileCounts(**{key: row.pop(key) for key in ("in_progress", "completed", "failed", "cancelled", "total")})
    cancelled = row.pop("cancel_requested")
    return FileBatch(**row, cancelled=cancelled, file_counts=counts)


def list_file_batches(
    conn: Connection, tenant_id: str, store_id: str, page: PageRequest, cursor_at: datetime | None
) -> tuple[list[FileBatch], bool]:
    """One page of the store's batches with their file counts, and whether more lie beyond it."""
    params = {"tenant_id": tenant_id, "vector_store_id": store_id}
    rows, has_more = fetch_page(conn, "list_file_batches", params, page, cursor_at)
    return [_batch(row) for row in rows], has_more


def file_batch_status_counts(conn: Connection, tenant_id: str) -> dict[str, int]:
    """The tenant's batches by status."""
    rows = conn.execute(QUERIES["file_batch_status_counts"], {"tenant_id": tenant_id}).fetchall()
    return {row["status"]: row["n"] for row in rows}


def cancel_file_batch(conn: Connection, tenant_id: str, store_id: str, batch_id: str) -> None:
    conn.execute(QUERIES["cancel_file_batch"], {"tenant_id": tenant_id, "vector_store_id": store_id, "id": batch_id})


def batch_file_counts(conn: Connection, tenant_id: str, batch_id: str) -> FileCounts:
    row = one(conn.execute(QUERIES["batch_file_counts"], {"tenant_id": tenant_id, "batch_id": batch_id}))
    return FileCounts(**row)


def batch_failures(conn: Connection, tenant_id: str, batch_id: str) -> list[FileFailure]:
    rows = conn.execute(QUERIES["batch_failures"], {"tenant_id": tenant_id, "batch_id": batch_id}).fetchall()
    return [FileFailure(r["filename"], r["last_error_code"], r["last_error_message"]) for r in rows]
