"""What the importers brought into a store: versions keyed by source, and the files they replace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ragstore.models import FileRecord
from ragstore.store.db import translate_errors
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection

PART_SIZE = 1 << 20


@dataclass(frozen=True)
class ImportedVersion:
    """One imported version of a source: its file in the store, the fingerprint of what was imported, its status."""

    source_key: str
    file_id: str
    fingerprint: str
    imported_at: datetime
    status: str


@dataclass(frozen=True)
class ImportedFile:
    """A file an importer writes whole: its bytes, its attachment (completed once its chunks are in) and its source."""

    file: FileRecord
    data: bytes
    attach_id: str
    chunk_size: int
    chunk_overlap: int
    attributes: dict[str, Any] | None
    chunk_count: int
    usage_bytes: int
    source_key: str
    fingerprint: str


def imported_versions(
    conn: Connection, tenant_id: str, store_id: str, prefix: str = ""
) -> dict[str, list[ImportedVersion]]:
    """The imported versions of each source whose key starts with prefix, newest first."""
    rows = conn.execute(
        QUERIES["imported_versions"], {"tenant_id": tenant_id, "vector_store_id": store_id, "prefix": prefix}
    ).fetchall()
    versions: dict[str, list[ImportedVersion]] = {}
    for row in rows:
        versions.setdefault(row["source_key"], []).append(ImportedVersion(**row))
    return versions


def insert_files(conn: Connection, tenant_id: str, store_id: str, new: Sequence[ImportedFile]) -> None:
    """Files with their bytes, attached in progress (the caller then writes their chunks and completes them)."""
    files = [
        {
            "tenant_id": tenant_id,
            "id": f.file.id,
            "filename": f.file.filename,
            "purpose": f.file.purpose,
            "bytes": len(f.data),
            "sha256": f.file.sha256,
            "expires_after_seconds": None,
        }
        for f in new
    ]
    parts = [
        {"tenant_id": tenant_id, "file_id": f.file.id, "seq": seq, "data": f.data[start : start + PART_SIZE]}
        for f in new
        for seq, start in enumerate(range(0, len(f.data), PART_SIZE))
    ]
    attached = [
        {
            "tenant_id": tenant_id,
            "vector_store_id": store_id,
            "file_id": f.file.id,
            "batch_id": None,
            "chunk_size_tokens": f.chunk_size,
            "chunk_overlap_tokens": f.chunk_overlap,
            "attributes": Jsonb(f.attributes) if f.attributes is not None else None,
            "attach_id": f.attach_id,
        }
        for f in new
    ]
    with conn.cursor() as cur:
        cur.executemany(QUERIES["insert_file"], files)
        cur.executemany(QUERIES["insert_file_part"], parts)
        cur.executemany(QUERIES["attach_vector_store_file"], attached)


def complete_files(conn: Connection, tenant_id: str, store_id: str, new: Sequence[ImportedFile]) -> None:
    """Complete the files' attachments (their chunks written) and record where they came from."""
    key = {"tenant_id": tenant_id, "vector_store_id": store_id}
    with conn.cursor() as cur:
        cur.executemany(
            QUERIES["complete_vector_store_file"],
            [{**key, "file_id": f.file.id, "usage_bytes": f.usage_bytes, "chunk_count": f.chunk_count} for f in new],
        )
        cur.executemany(
            QUERIES["insert_imported_file"],
            [{**key, "file_id": f.file.id, "source_key": f.source_key, "fingerprint": f.fingerprint} for f in new],
        )


def insert_imported_file(
    conn: Connection, tenant_id: str, store_id: str, file_id: str, source_key: str, fingerprint: str
) -> None:
    conn.execute(
        QUERIES["insert_imported_file"],
        {
            "tenant_id": tenant_id,
            "vector_store_id": store_id,
            "file_id": file_id,
            "source_key": source_key,
            "fingerprint": fingerprint,
        },
    )


def attachment_states(
    conn: Connection, tenant_id: str, store_id: str, file_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Status, chunk count and last error of these files in the store, by file id (a detached file is missing)."""
    rows = conn.execute(
        QUERIES["attachment_states"], {"tenant_id": tenant_id, "vector_store_id": store_id, "file_ids": list(file_ids)}
    ).fetchall()
    return {row.pop("file_id"): row for row in rows}


def drop_imported_files(conn: Connection, tenant_id: str, store_id: str, file_ids: Sequence[str]) -> int:
    """Detach files from the store (their chunks go too) and delete those no other store holds; return how many."""
    if not file_ids:
        return 0
    params = {"tenant_id": tenant_id, "vector_store_id": store_id, "file_ids": list(file_ids)}
    detached = conn.execute(QUERIES["detach_imported_files"], params).fetchall()
    conn.execute(QUERIES["delete_unattached_files"], params)
    return len(detached)


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A savepoint inside the caller's transaction: a record that fails to write rolls back alone."""
    with translate_errors(), conn.transaction():
        yield
