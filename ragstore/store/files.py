"""Files and their bytes, kept in the database in parts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ragstore.models import FileRecord, PageRequest
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one


def insert_file(
    conn: Connection, tenant_id: str, record: FileRecord, expires_after_seconds: int | None = None
) -> FileRecord:
    row = one(
        conn.execute(
            QUERIES["insert_file"],
            {
                "tenant_id": tenant_id,
                "id": record.id,
                "filename": record.filename,
                "purpose": record.purpose,
                "bytes": record.bytes,
                "sha256": record.sha256,
                "expires_after_seconds": expires_after_seconds,
            },
        )
    )
    return FileRecord(**row)


def insert_file_part(conn: Connection, tenant_id: str, file_id: str, seq: int, data: bytes) -> None:
    conn.execute(QUERIES["insert_file_part"], {"tenant_id": tenant_id, "file_id": file_id, "seq": seq, "data": data})


def get_file(conn: Connection, tenant_id: str, file_id: str) -> FileRecord | None:
    row = conn.execute(QUERIES["get_file"], {"tenant_id": tenant_id, "id": file_id}).fetchone()
    return FileRecord(**row) if row else None


def file_parts(conn: Connection, tenant_id: str, file_id: str) -> Iterator[bytes]:
    """The file's bytes, part by part, streamed from the server."""
    with conn.cursor() as cur:
        for row in cur.stream(QUERIES["file_parts"], {"tenant_id": tenant_id, "file_id": file_id}):
            yield row["data"]


def set_file_digest(conn: Connection, tenant_id: str, file_id: str, size: int, sha256: str) -> FileRecord:
    row = one(
        conn.execute(
            QUERIES["set_file_digest"], {"tenant_id": tenant_id, "id": file_id, "bytes": size, "sha256": sha256}
        )
    )
    return FileRecord(**row)


def list_files(
    conn: Connection, tenant_id: str, purpose: str | None, page: PageRequest, cursor_at: datetime | None
) -> tuple[list[FileRecord], bool]:
    rows, has_more = fetch_page(conn, "list_files", {"tenant_id": tenant_id, "purpose": purpose}, page, cursor_at)
    return [FileRecord(**row) for row in rows], has_more


def delete_file(conn: Connection, tenant_id: str, file_id: str) -> bool:
    """Delete a file, its bytes, and its chunks in every store; False if there was no such file."""
    return conn.execute(QUERIES["delete_file"], {"tenant_id": tenant_id, "id": file_id}).fetchone() is not None


def delete_expired_files(conn: Connection) -> int:
    """Delete every file past its expires_at, in all tenants; return how many."""
    return len(conn.execute(QUERIES["delete_expired_files"]).fetchall())
