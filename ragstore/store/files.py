"""Files and their bytes, kept in the database in parts."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg

from ragstore.models import FileRecord
from ragstore.store.queries import QUERIES


def insert_file(conn: psycopg.Connection, tenant_id: str, record: FileRecord) -> FileRecord:
    row = conn.execute(
        QUERIES["insert_file"],
        {
            "tenant_id": tenant_id,
            "id": record.id,
            "filename": record.filename,
            "purpose": record.purpose,
            "bytes": record.bytes,
            "sha256": record.sha256,
        },
    ).fetchone()
    return FileRecord(**row)


def insert_file_part(conn: psycopg.Connection, tenant_id: str, file_id: str, seq: int, data: bytes) -> None:
    conn.execute(QUERIES["insert_file_part"], {"tenant_id": tenant_id, "file_id": file_id, "seq": seq, "data": data})


def get_file(conn: psycopg.Connection, tenant_id: str, file_id: str) -> FileRecord | None:
    row = conn.execute(QUERIES["get_file"], {"tenant_id": tenant_id, "id": file_id}).fetchone()
    return FileRecord(**row) if row else None


def file_parts(conn: psycopg.Connection, tenant_id: str, file_id: str) -> Iterator[bytes]:
    """The file's bytes, part by part, streamed from the server."""
    with conn.cursor(name=None) as cur:
        for row in cur.stream(QUERIES["file_parts"], {"tenant_id": tenant_id, "file_id": file_id}):
            yield row["data"]


def set_file_digest(conn: psycopg.Connection, tenant_id: str, file_id: str, size: int, sha256: str) -> FileRecord:
    row = conn.execute(
        QUERIES["set_file_digest"], {"tenant_id": tenant_id, "id": file_id, "bytes": size, "sha256": sha256}
    ).fetchone()
    return FileRecord(**row)
