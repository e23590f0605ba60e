"""The files of a vector store and their batches: attach, list, read, change attributes, detach, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragstore.errors import InvalidRequest, NotFound
from ragstore.models import FileBatch, Page, PageRequest, VectorStoreFile
from ragstore.service import ingestion, paging, stores
from ragstore.service.ingestion import FileSpec
from ragstore.store import vector_store_files
from ragstore.store.db import Database

MAX_BATCH = 2000


def attach(db: Database, tenant_id: str, store_id: str, spec: FileSpec) -> VectorStoreFile:
    store = stores.get(db, tenant_id, store_id)
    ingestion.attach(db, tenant_id, store, [spec], batch=False)
    stores.touch(db, tenant_id, store_id)
    return get(db, tenant_id, store_id, spec.file_id)


def get(db: Database, tenant_id: str, store_id: str, file_id: str) -> VectorStoreFile:
    with db.tenant(tenant_id) as conn:
        found = vector_store_files.get_vector_store_file(conn, tenant_id, store_id, file_id)
    if found is None:
        stores.get(db, tenant_id, store_id)  # a missing store is named as such
        raise NotFound(f"No file '{file_id}' in vector store '{store_id}'.", param="file_id")
    return found


def list_files(
    db: Database,
    tenant_id: str,
    store_id: str,
    page: PageRequest,
    *,
    status: str | None = None,
    batch_id: str | None = None,
) -> Page[VectorStoreFile]:
    stores.get(db, tenant_id, store_id)
    with db.tenant(tenant_id) as conn:
        cursor_at = paging.cursor_time(
            page, lambda id_: vector_store_files.get_vector_store_file(conn, tenant_id, store_id, id_)
        )
        items, has_more = vector_store_files.list_vector_store_files(
            conn, tenant_id, store_id, page, cursor_at, status=status, batch_id=batch_id
        )
    return Page(items, has_more)


def update_attributes(
    db: Database, tenant_id: str, store_id: str, file_id: str, attributes: dict[str, Any] | None
) -> VectorStoreFile:
    get(db, tenant_id, store_id, file_id)
    with db.tenant(tenant_id) as conn:
        vector_store_files.set_vector_store_file_attributes(conn, tenant_id, store_id, file_id, attributes)
    return get(db, tenant_id, store_id, file_id)


def detach(db: Database, tenant_id: str, store_id: str, file_id: str) -> None:
    """Remove a file (and its chunks) from one store; the file itself stays."""
    get(db, tenant_id, store_id, file_id)
    with db.tenant(tenant_id) as conn:
        vector_store_files.delete_vector_store_file(conn, tenant_id, store_id, file_id)


def content(db: Database, tenant_id: str, store_id: str, file_id: str) -> list[str]:
    """The file's chunks' texts, in order."""
    get(db, tenant_id, store_id, file_id)
    with db.tenant(tenant_id) as conn:
        return list(vector_store_files.file_chunk_texts(conn, tenant_id, store_id, file_id))


def create_batch(db: Database, tenant_id: str, store_id: str, specs: Sequence[FileSpec]) -> FileBatch:
    if not 1 <= len(specs) <= MAX_BATCH:
        raise InvalidRequest(f"A batch holds 1 to {MAX_BATCH} files, got {len(specs)}.", param="file_ids")
    store = stores.get(db, tenant_id, store_id)
    batch_id = ingestion.attach(db, tenant_id, store, specs, batch=True)
    stores.touch(db, tenant_id, store_id)
    assert batch_id is not None
    return get_batch(db, tenant_id, store_id, batch_id)


def get_batch(db: Database, tenant_id: str, store_id: str, batch_id: str) -> FileBatch:
    with db.tenant(tenant_id) as conn:
        batch = vector_store_files.get_file_batch(conn, tenant_id, store_id, batch_id)
    if batch is None:
        stores.get(db, tenant_id, store_id)
        raise NotFound(f"No file batch '{batch_id}' in vector store '{store_id}'.", param="batch_id")
    return batch


def cancel_batch(db: Database, tenant_id: str, store_id: str, batch_id: str) -> FileBatch:
    """Cancel the batch's files still in progress; completed ones stay searchable."""
    get_batch(db, tenant_id, store_id, batch_id)
    with db.tenant(tenant_id) as conn:
        vector_store_files.cancel_file_batch(conn, tenant_id, store_id, batch_id)
    return get_batch(db, tenant_id, store_id, batch_id)
