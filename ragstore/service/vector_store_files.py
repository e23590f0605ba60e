"""The files of a vector store and their batches: attach, list, read, change attributes, detach, cancel.

Each function is one tenant transaction (the caller's when it passes `conn`): attaching a file checks the store and
the file, attaches it, queues its job, marks the store active and reads the result back, all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragstore.errors import InvalidRequest, NotFound
from ragstore.models import FileBatch, FileChunk, Page, PageRequest, VectorStoreFile
from ragstore.service import Connection, Database, ingestion, paging, stores
from ragstore.service.ingestion import FileSpec
from ragstore.store import vector_store_files
from ragstore.store.replicas import fall_back

MAX_BATCH = 2000


def attach(
    db: Database, tenant_id: str, store_id: str, spec: FileSpec, *, conn: Connection | None = None
) -> VectorStoreFile:
    """Attach a file to a store and queue its ingestion; the attachment as it is then (in progress)."""
    with db.transaction(tenant_id, conn) as conn:
        store = stores.get(db, tenant_id, store_id, conn=conn)
        ingestion.attach(db, tenant_id, store, [spec], batch=False, conn=conn)
        stores.touch(db, tenant_id, store_id, conn=conn)
        return get(db, tenant_id, store_id, spec.file_id, conn=conn)


@fall_back
def get(
    db: Database, tenant_id: str, store_id: str, file_id: str, *, conn: Connection | None = None
) -> VectorStoreFile:
    with db.reader(tenant_id, conn) as conn:
        found = vector_store_files.get_vector_store_file(conn, tenant_id, store_id, file_id)
        if found is None:
            stores.get(db, tenant_id, store_id, conn=conn)  # a missing store is named as such
            raise NotFound(f"No file '{file_id}' in vector store '{store_id}'.", param="file_id")
    return found


@fall_back
def list_files(
    db: Database,
    tenant_id: str,
    store_id: str,
    page: PageRequest,
    *,
    status: str | None = None,
    batch_id: str | None = None,
    conn: Connection | None = None,
) -> Page[VectorStoreFile]:
    with db.reader(tenant_id, conn) as conn:
        stores.get(db, tenant_id, store_id, conn=conn)
        cursor_at = paging.cursor_time(
            page, lambda id_: vector_store_files.get_vector_store_file(conn, tenant_id, store_id, id_)
        )
        items, has_more = vector_store_files.list_vector_store_files(
            conn, tenant_id, store_id, page, cursor_at, status=status, batch_id=batch_id
        )
    return Page(items, has_more)


def update_attributes(
    db: Database,
    tenant_id: str,
    store_id: str,
    file_id: str,
    attributes: dict[str, Any] | None,
    *,
    conn: Connection | None = None,
) -> VectorStoreFile:
    """Replace a file's attributes, and so its chunks' (their own metadata under the new ones)."""
    with db.transaction(tenant_id, conn) as conn:
        get(db, tenant_id, store_id, file_id, conn=conn)
        vector_store_files.set_vector_store_file_attributes(conn, tenant_id, store_id, file_id, attributes)
        return get(db, tenant_id, store_id, file_id, conn=conn)


def detach(db: Database, tenant_id: str, store_id: str, file_id: str, *, conn: Connection | None = None) -> None:
    """Remove a file (and its chunks) from one store; the file itself stays."""
    with db.transaction(tenant_id, conn) as conn:
        get(db, tenant_id, store_id, file_id, conn=conn)
        vector_store_files.delete_vector_store_file(conn, tenant_id, store_id, file_id)


def content(db: Database, tenant_id: str, store_id: str, file_id: str, *, conn: Connection | None = None) -> list[str]:
    """The file's chunks' texts, in order."""
    with db.transaction(tenant_id, conn) as conn:
        get(db, tenant_id, store_id, file_id, conn=conn)
        return list(vector_store_files.file_chunk_texts(conn, tenant_id, store_id, file_id))


def chunks(
    db: Database, tenant_id: str, store_id: str, file_id: str, *, conn: Connection | None = None
) -> list[FileChunk]:
    """The file's chunks in order, with their page numbers (PDFs) and token counts."""
    with db.transaction(tenant_id, conn) as conn:
        get(db, tenant_id, store_id, file_id, conn=conn)
        return list(vector_store_files.file_chunks(conn, tenant_id, store_id, file_id))


def create_batch(
    db: Database, tenant_id: str, store_id: str, specs: Sequence[FileSpec], *, conn: Connection | None = None
) -> FileBatch:
    """Attach files as one batch, all or none, each queued for ingestion; the batch as it is then."""
    if not 1 <= len(specs) <= MAX_BATCH:
        raise InvalidRequest(f"A batch holds 1 to {MAX_BATCH} files, got {len(specs)}.", param="file_ids")
    with db.transaction(tenant_id, conn) as conn:
        store = stores.get(db, tenant_id, store_id, conn=conn)
        batch_id = ingestion.attach(db, tenant_id, store, specs, batch=True, conn=conn)
        stores.touch(db, tenant_id, store_id, conn=conn)
        assert batch_id is not None
        return get_batch(db, tenant_id, store_id, batch_id, conn=conn)


@fall_back
def get_batch(
    db: Database, tenant_id: str, store_id: str, batch_id: str, *, conn: Connection | None = None
) -> FileBatch:
    with db.reader(tenant_id, conn) as conn:
        batch = vector_store_files.get_file_batch(conn, tenant_id, store_id, batch_id)
        if batch is None:
            stores.get(db, tenant_id, store_id, conn=conn)
            raise NotFound(f"No file batch '{batch_id}' in vector store '{store_id}'.", param="batch_id")
    return batch


def list_batches(
    db: Database, tenant_id: str, store_id: str, page: PageRequest, *, conn: Connection | None = None
) -> Page[FileBatch]:
    """A page of the store's batches (newest first by default), each with its file counts."""
    with db.transaction(tenant_id, conn) as conn:
        stores.get(db, tenant_id, store_id, conn=conn)
        cursor_at = paging.cursor_time(
            page, lambda id_: vector_store_files.get_file_batch(conn, tenant_id, store_id, id_)
        )
        items, has_more = vector_store_files.list_file_batches(conn, tenant_id, store_id, page, cursor_at)
    return Page(items, has_more)


def cancel_batch(
    db: Database, tenant_id: str, store_id: str, batch_id: str, *, conn: Connection | None = None
) -> FileBatch:
    """Cancel the batch's files still in progress; completed ones stay searchable."""
    with db.transaction(tenant_id, conn) as conn:
        get_batch(db, tenant_id, store_id, batch_id, conn=conn)
        vector_store_files.cancel_file_batch(conn, tenant_id, store_id, batch_id)
        return get_batch(db, tenant_id, store_id, batch_id, conn=conn)
