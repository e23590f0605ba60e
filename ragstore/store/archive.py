"""Backup, restore and verify in the database: a consistent snapshot to read from, rows streamed out in a fixed
order, rows written back in batches, all as the tenant (row-level security) but for creating a missing tenant."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from pgvector import HalfVector
from psycopg.types.json import Jsonb

from ragstore.errors import Conflict, RagstoreError
from ragstore.store import tenants
from ragstore.store.db import Database
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

# Rows fetched per round trip from a server-side cursor, and written per statement.
FETCH_ROWS = 2000
WRITE_ROWS = 500
_cursor_numbers = itertools.count()


@contextlib.contextmanager
def snapshot(db: Database, tenant_id: str) -> Iterator[Connection]:
    """A read-only transaction as the tenant in which every query sees the same moment (REPEATABLE READ)."""
    with db.connection() as conn, conn.transaction():
        conn.execute(QUERIES["archive_snapshot"])
        conn.execute(QUERIES["enter_tenant"], {"tenant_id": tenant_id})
        yield conn


@contextlib.contextmanager
def restoring(db: Database, tenant_id: str, new_tenant_name: str | None) -> Iterator[Connection]:
    """One transaction for a whole restore: the tenant created first if a name is given (as the owner, since
    tenants are system rows), then everything else as the tenant. An error undoes all of it."""
    with db.connection() as conn, conn.transaction():
        if new_tenant_name is not None and tenants.insert_tenant(conn, tenant_id, new_tenant_name) is None:
            raise Conflict(f"A tenant named '{new_tenant_name}' was created meanwhile; run the restore again.")
        conn.execute(QUERIES["enter_tenant"], {"tenant_id": tenant_id})
        yield conn


def counts(conn: Connection, tenant_id: str, store_ids: Sequence[str] | None) -> dict[str, int]:
    """How many rows of each kind the scope holds (store_ids None: the whole tenant)."""
    row = one(conn.execute(QUERIES["archive_counts"], _scope(tenant_id, store_ids)))
    return {kind: int(n) for kind, n in row.items()}


def select_rows(
    conn: Connection, kind: str, tenant_id: str, store_ids: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The scope's rows of one kind (files, vector_stores, ..., dataset_examples), streamed in a fixed order."""
    yield from _stream(conn, QUERIES[f"archive_select_{kind}"], _scope(tenant_id, store_ids))


def store_chunk_count(conn: Connection, tenant_id: str, store_id: str) -> int:
    params = {"tenant_id": tenant_id, "store_id": store_id}
    return int(one(conn.execute(QUERIES["archive_store_chunk_count"], params))["n"])


def select_chunks(conn: Connection, tenant_id: str, store_id: str) -> Iterator[dict[str, Any]]:
    """A store's chunks without their embeddings, by (file_id, chunk_index)."""
    yield from _stream(conn, QUERIES["archive_select_chunks"], {"tenant_id": tenant_id, "store_id": store_id})


def select_embeddings(conn: Connection, tenant_id: str, store_id: str) -> Iterator[np.ndarray]:
    """A store's embeddings (its active space's) in the order of select_chunks, as float16 rows, block by block."""
    params = {"tenant_id": tenant_id, "store_id": store_id}
    rows = _stream(conn, QUERIES["archive_select_embeddings"], params, binary=True)
    for block in _batched(rows, FETCH_ROWS):
        yield np.stack([_vector(row["embedding"], store_id) for row in block])


def live_chunks(conn: Connection, tenant_id: str, store_id: str) -> Iterator[dict[str, Any]]:
    """A store's chunks as verify compares them (text_sha256 recomputed in the database; embedding as float16,
    None where the active space has none)."""
    params = {"tenant_id": tenant_id, "store_id": store_id}
    for row in _stream(conn, QUERIES["archive_live_chunks"], params, binary=True):
        row["embedding"] = None if row["embedding"] is None else row["embedding"].to_numpy()
        yield row


def existing_ids(conn: Connection, tenant_id: str, ids: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(kind, id) of the given objects that the tenant has already; ids by kind, datasets also by dataset_names."""
    rows = conn.execute(QUERIES["archive_existing_ids"], {"tenant_id": tenant_id, **ids}).fetchall()
    return [(row["kind"], row["id"]) for row in rows]


def existing_files(conn: Connection, tenant_id: str, file_ids: list[str]) -> dict[str, tuple[str, int]]:
    """{file id: (sha256, bytes)} of the given files that the tenant has already."""
    rows = conn.execute(QUERIES["archive_existing_files"], {"tenant_id": tenant_id, "ids": file_ids}).fetchall()
    return {row["id"]: (row["sha256"], row["bytes"]) for row in rows}


def insert_rows(conn: Connection, kind: str, tenant_id: str, rows: Iterable[dict[str, Any]]) -> int:
    """Insert archived rows of one kind (JSON-shaped: timestamps as ISO strings) in batches; return how many."""
    written = 0
    for block in _batched(rows, WRITE_ROWS):
        conn.execute(QUERIES[f"archive_insert_{kind}"], {"tenant_id": tenant_id, "rows": Jsonb(block)})
        written += len(block)
    return written


def recount_lexical_tokens(conn: Connection, tenant_id: str, store_id: str) -> None:
    conn.execute(QUERIES["archive_recount_lexical_tokens"], {"tenant_id": tenant_id, "store_id": store_id})


def _vector(value: HalfVector | None, store_id: str) -> np.ndarray:
    if value is None:
        raise RagstoreError(
            f"Vector store {store_id} has chunks without an embedding in the space it is searched in, so it cannot "
            "be archived whole: finish or roll back its re-embedding first."
        )
    return value.to_numpy()


def _scope(tenant_id: str, store_ids: Sequence[str] | None) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "store_ids": None if store_ids is None else list(store_ids)}


def _stream(conn: Connection, query: str, params: dict[str, Any], *, binary: bool = False) -> Iterator[dict[str, Any]]:
    """Rows from a server-side cursor (inside the caller's transaction), a few thousand at a time."""
    with conn.cursor(name=f"archive_{next(_cursor_numbers)}", binary=binary) as cur:
        cur.itersize = FETCH_ROWS
        cur.execute(query, params)
        yield from cur


def _batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while block := list(itertools.islice(iterator, size)):
        yield block
