"""Files: uploads streamed into the database in parts, and read back."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import BinaryIO

from ragstore import ids
from ragstore.errors import FileNotFound
from ragstore.models import FileRecord
from ragstore.store import files
from ragstore.store.db import Database

PART_SIZE = 1 << 20


def upload(db: Database, tenant_id: str, filename: str, stream: BinaryIO, purpose: str = "assistants") -> FileRecord:
    """Store a file's bytes, read part by part from stream; all or nothing."""
    digest = hashlib.sha256()
    size = 0
    placeholder = FileRecord(ids.new(ids.FILE), filename, purpose, 0, "", datetime.now(UTC))
    with db.transaction() as conn:
        record = files.insert_file(conn, tenant_id, placeholder)
        seq = 0
        while part := stream.read(PART_SIZE):
            digest.update(part)
            size += len(part)
            files.insert_file_part(conn, tenant_id, record.id, seq, part)
            seq += 1
        return files.set_file_digest(conn, tenant_id, record.id, size, digest.hexdigest())


def get(db: Database, tenant_id: str, file_id: str) -> FileRecord:
    with db.connection() as conn:
        record = files.get_file(conn, tenant_id, file_id)
    if record is None:
        raise FileNotFound(f"No file found with id '{file_id}'.", param="file_id")
    return record


def read_bytes(db: Database, tenant_id: str, file_id: str) -> bytes:
    """The whole content of a file (parsers need it whole)."""
    with db.connection() as conn:
        return b"".join(files.file_parts(conn, tenant_id, file_id))
