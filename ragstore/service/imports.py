"""What the importers keep in a store: the imported versions of each source, files written whole with their chunks
(records), files attached with their sources (a folder), and the older versions they replace.

Each function runs in the caller's tenant transaction when given `conn`, else in one of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragstore.errors import RagstoreError
from ragstore.ingest.chunk import Chunk
from ragstore.models import VectorStore
from ragstore.service import Connection, Database, chunks, ingestion
from ragstore.service.chunks import SpaceVectors
from ragstore.store import imports
from ragstore.store.imports import ImportedFile, ImportedVersion

__all__ = ["ImportedFile", "ImportedVersion", "WholeFile", "attach", "drop", "states", "versions", "write_whole"]


@dataclass(frozen=True)
class WholeFile:
    """A file an importer writes whole, without a job: its record and attachment, its chunks with their vectors in
    every live space of the store, and the older versions of its source it replaces."""

    imported: ImportedFile
    pieces: Sequence[Chunk]
    vectors: Sequence[SpaceVectors]
    replaces: Sequence[str]


def versions(
    db: Database, tenant_id: str, store_id: str, prefix: str = "", *, conn: Connection | None = None
) -> dict[str, list[ImportedVersion]]:
    """The imported versions of each source whose key starts with prefix, newest first."""
    with db.transaction(tenant_id, conn) as conn:
        return imports.imported_versions(conn, tenant_id, store_id, prefix)


def states(
    db: Database, tenant_id: str, store_id: str, file_ids: Sequence[str], *, conn: Connection | None = None
) -> dict[str, dict[str, Any]]:
    """Status, chunk count and last error of these files in the store, by file id (a detached file is missing)."""
    with db.transaction(tenant_id, conn) as conn:
        return imports.attachment_states(conn, tenant_id, store_id, file_ids)


def drop(
    db: Database, tenant_id: str, store_id: str, file_ids: Sequence[str], *, conn: Connection | None = None
) -> int:
    """Detach files from the store (their chunks go too) and delete those no other store holds; return how many."""
    if not file_ids:
        return 0
    with db.transaction(tenant_id, conn) as conn:
        return imports.drop_imported_files(conn, tenant_id, store_id, file_ids)


def attach(
    db: Database,
    tenant_id: str,
    store: VectorStore,
    specs: Sequence[ingestion.FileSpec],
    sources: Mapping[str, tuple[str, str]],
    *,
    conn: Connection | None = None,
) -> str:
    """Attach uploaded files as one batch, each queued for ingestion with the record of its source
    (sources: file id -> (source key, fingerprint)); return the batch id."""
    with db.transaction(tenant_id, conn) as conn:
        batch_id = ingestion.attach(db, tenant_id, store, specs, batch=True, conn=conn)
        for spec in specs:
            key, fingerprint = sources[spec.file_id]
            imports.insert_imported_file(conn, tenant_id, store.id, spec.file_id, key, fingerprint)
    assert batch_id is not None
    return batch_id


def write_whole(db: Database, tenant_id: str, store: VectorStore, new: Sequence[WholeFile]) -> dict[str, str]:
    """Write the files as completed files of the store in one transaction, a statement per table for all of them;
    if the database refuses that, one by one, each under a savepoint, so that a refused one fails alone. Return
    the reasons of those that failed, by file id."""
    failed: dict[str, str] = {}
    with db.transaction(tenant_id) as conn:
        try:
            with imports.savepoint(conn):
                _write(conn, tenant_id, store, new)
        except RagstoreError:
            for one in new:
                try:
                    with imports.savepoint(conn):
                        _write(conn, tenant_id, store, [one])
                except RagstoreError as exc:
                    failed[one.imported.file.id] = exc.message
    return failed


def _write(conn: Connection, tenant_id: str, store: VectorStore, new: Sequence[WholeFile]) -> None:
    """The files and their attachments, their chunks in every live space, then completed; their older versions gone."""
    imports.insert_files(conn, tenant_id, store.id, [one.imported for one in new])
    for one in new:
        stored = chunks.rows(one.pieces, one.imported.attributes or {})
        chunks.write(conn, tenant_id, store.id, one.imported.file.id, stored, one.vectors, store.text_search_language)
    imports.complete_files(conn, tenant_id, store.id, [one.imported for one in new])
    imports.drop_imported_files(conn, tenant_id, store.id, [old for one in new for old in one.replaces])
