"""What the importers brought into a store: versions keyed by source, and the files they replace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from ragstore.store.db import translate_errors
from ragstore.store.queries import QUERIES


@dataclass(frozen=True)
class ImportedVersion:
    """One imported version of a source: its file in the store, the fingerprint of what was imported, its status."""

    source_key: str
    file_id: str
    fingerprint: str
    imported_at: datetime
    status: str


def imported_versions(
    conn: psycopg.Connection, tenant_id: str, store_id: str, prefix: str = ""
) -> dict[str, list[ImportedVersion]]:
    """The imported versions of each source whose key starts with prefix, newest first."""
    rows = conn.execute(
        QUERIES["imported_versions"], {"tenant_id": tenant_id, "vector_store_id": store_id, "prefix": prefix}
    ).fetchall()
    versions: dict[str, list[ImportedVersion]] = {}
    for row in rows:
        versions.setdefault(row["source_key"], []).append(ImportedVersion(**row))
    return versions


def insert_imported_file(
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_id: str, source_key: str, fingerprint: str
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
    conn: psycopg.Connection, tenant_id: str, store_id: str, file_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Status, chunk count and last error of these files in the store, by file id (a detached file is missing)."""
    rows = conn.execute(
        QUERIES["attachment_states"], {"tenant_id": tenant_id, "vector_store_id": store_id, "file_ids": list(file_ids)}
    ).fetchall()
    return {row.pop("file_id"): row for row in rows}


def drop_imported_files(conn: psycopg.Connection, tenant_id: str, store_id: str, file_ids: Sequence[str]) -> int:
    """Detach files from the store (their chunks go too) and delete those no other store holds; return how many."""
    if not file_ids:
        return 0
    params = {"tenant_id": tenant_id, "vector_store_id": store_id, "file_ids": list(file_ids)}
    detached = conn.execute(QUERIES["detach_imported_files"], params).fetchall()
    conn.execute(QUERIES["delete_unattached_files"], params)
    return len(detached)


@contextlib.contextmanager
def savepoint(conn: psycopg.Connection) -> Iterator[None]:
    """A savepoint inside the caller's transaction: a record that fails to write rolls back alone."""
    with translate_errors(), conn.transaction():
        yield
