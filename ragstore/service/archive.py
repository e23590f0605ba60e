"""The database side of backup, restore and verify (ragstore.archive), which reaches store/ only through here.

A backup and a verify read inside one snapshot (`snapshot`), a restore writes inside one transaction
(`restoring`). The bulk reads and writes they run inside it are store/'s, re-exported here as they are: each
already takes the caller's connection, and a wrapper per function would add a line each and nothing else. What a
restore writes as every writer does goes through the same function: chunks through the one chunk writer, a
store's own embedding space through store/spaces.py, its HNSW index built after the commit as store creation builds it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ragstore import ids
from ragstore.models import EmbeddingSpace
from ragstore.service import Connection, Database, chunks
from ragstore.service.chunks import ChunkRow, SpaceVectors
from ragstore.store import spaces as space_store
from ragstore.store.archive import (
    counts,
    existing_files,
    existing_ids,
    insert_rows,
    live_chunks,
    recount_lexical_tokens,
    restoring,
    select_chunks,
    select_embeddings,
    select_rows,
    snapshot,
    store_chunk_count,
)
from ragstore.store.files import file_parts, insert_file_part

__all__ = [
    "active_space",
    "add_space",
    "counts",
    "existing_files",
    "existing_ids",
    "file_parts",
    "index_spaces",
    "insert_file_part",
    "insert_rows",
    "live_chunks",
    "recount_lexical_tokens",
    "restoring",
    "select_chunks",
    "select_embeddings",
    "select_rows",
    "snapshot",
    "store_chunk_count",
    "write_chunks",
]


def active_space(conn: Connection, tenant_id: str, store_id: str) -> EmbeddingSpace | None:
    """The space a store is searched in (None: chunks.embedding, a store that has no space rows)."""
    return space_store.active_space_of_store(conn, tenant_id, store_id)


def add_space(conn: Connection, tenant_id: str, store_id: str, template: EmbeddingSpace) -> EmbeddingSpace:
    """A restored store's one space (a template without ids), recorded and made its active one; a new id, since
    index names are made of space ids and the archive's store may be restored beside its source."""
    space = replace(template, id=ids.new(ids.SPACE), vector_store_id=store_id)
    space_store.insert_space(conn, tenant_id, space)
    space_store.set_active(conn, tenant_id, store_id, space)
    return space


def index_spaces(db: Database, restored: Iterable[EmbeddingSpace]) -> None:
    """The HNSW index of each restored space, once the restore is committed (CREATE INDEX CONCURRENTLY)."""
    with db.connection() as owner:  # autocommit, as the owner
        for space in restored:
            space_store.create_index(owner, space)


def write_chunks(
    conn: Connection,
    tenant_id: str,
    store: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    embeddings: np.ndarray,
    cited: set[int],
    space: EmbeddingSpace | None = None,
) -> dict[int, int]:
    """Archived chunks of a store (a block of them, by file), exactly as they were, with their embeddings, through
    the one chunk writer; return {archived id: new id} of the cited ones.

    A restored store has one space (an archive holds the vectors of its active space only): chunks.embedding (space
    None), or the space of its own that add_space made.
    """
    renamed: dict[int, int] = {}
    start = 0
    for file_id, group in itertools.groupby(rows, key=lambda row: row["file_id"]):
        block = list(group)
        stored = [_stored(row) for row in block]
        vectors = [SpaceVectors(space, embeddings[start : start + len(block)])]
        new_ids = chunks.write(conn, tenant_id, store["id"], file_id, stored, vectors, store["text_search_language"])
        renamed.update({row["id"]: new for row, new in zip(block, new_ids, strict=True) if row["id"] in cited})
        start += len(block)
    return renamed


def _stored(row: dict[str, Any]) -> ChunkRow:
    return ChunkRow(
        row["chunk_index"],
        row["text"],
        row["token_count"],
        row["page"],
        row["attributes"],
        row["doc_metadata"],
        row["content_hash"],
    )
