"""Files: uploads streamed into the database in parts, and read back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from ragstore import ids
from ragstore.errors import FileNotFound, FileTooLarge
from ragstore.models import FileRecord, Page, PageRequest
from ragstore.service import Connection, Database, paging
from ragstore.store import files
from ragstore.store.replicas import fall_back

PART_SIZE = 1 << 20


def upload(
    db: Database,
    tenant_id: str,
    filename: str,
    stream: BinaryIO,
    purpose: str = "assistants",
    *,
    expires_after_seconds: int | None = None,
    max_bytes: int | None = None,
) -> FileRecord:
    """Store a file's bytes, read part by part from stream; all or nothing (also when it is too large)."""
    digest = hashlib.sha256()
    size = 0
    placeholder = FileRecord(ids.new(ids.FILE), filename, purpose, 0, "", datetime.now(UTC))
    with db.tenant(tenant_id) as conn:
        record = files.insert_file(conn, tenant_id, placeholder, expires_after_seconds)
        seq = 0
        while part := stream.read(PART_SIZE):
            digest.update(part)
            size += len(part)
            if max_bytes is not None and size > max_bytes:
                raise FileTooLarge(f"The file is larger than the limit of {max_bytes} bytes.", param="file")
            files.insert_file_part(conn, tenant_id, record.id, seq, part)
            seq += 1
        return files.set_file_digest(conn, tenant_id, record.id, size, digest.hexdigest())


@fall_back
def get(db: Database, tenant_id: str, file_id: str, *, conn: Connection | None = None) -> FileRecord:
    with db.reader(tenant_id, conn) as conn:
        record = files.get_file(conn, tenant_id, file_id)
    if record is None:
        raise FileNotFound(f"No file found with id '{file_id}'.", param="file_id")
    return record


def read_bytes(db: Database, tenant_id: str, file_id: str) -> bytes:
    """The whole content of a file (parsers need it whole)."""
    return b"".join(stream_bytes(db, tenant_id, file_id))


def stream_bytes(db: Database, tenant_id: str, file_id: str, *, conn: Connection | None = None) -> Iterator[bytes]:
    """The content of a file, part by part."""
    with db.transaction(tenant_id, conn) as conn:
        yield from files.file_parts(conn, tenant_id, file_id)


@fall_back
def list_files(db: Database, tenant_id: str, purpose: str | None, page: PageRequest) -> Page[FileRecord]:
    with db.reader(tenant_id) as conn:
        paging.check(page)
        items, has_more = files.list_files(conn, tenant_id, purpose, page, None)
    return Page(items, has_more)


def delete(db: Database, tenant_id: str, file_id: str) -> None:
    """Delete a file, and its chunks from every vector store."""
    with db.tenant(tenant_id) as conn:
        if not files.delete_file(conn, tenant_id, file_id):
            raise FileNotFound(f"No file found with id '{file_id}'.", param="file_id")


def delete_expired(db: Database) -> int:
    """Delete the files whose expires_after has run out (with their chunks); return how many."""
    with db.connection() as conn:
        return files.delete_expired_files(conn)
