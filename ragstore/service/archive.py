"""The database side of backup, restore and verify (ragstore.archive), which reaches store/ only through here.

A backup and a verify read inside one snapshot (`snapshot`), a restore writes inside one transaction
(`restoring`). The bulk reads and writes they run inside it are store/'s, re-exported here as they are: each
already takes the caller's connection, and a wrapper per function would add a line each and nothing else. What a
restore writes as every writer does goes through the same function: chunks through the one chunk writer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragstore.service import Connection, chunks
from ragstore.service.chunks import ChunkRow, SpaceVectors
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
    "counts",
    "existing_files",
    "existing_ids",
    "file_parts",
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


def write_chunks(
    conn: Connection,
    tenant_id: str,
    store: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    embeddings: np.ndarray,
    cited: set[int],
) -> dict[int, int]:
    """Archived chunks of a store (a block of them, by file), exactly as they were, with their embeddings, through
    the one chunk writer; return {archived id: new id} of the cited ones.

    A restored store has no space rows (an archive holds the vectors of its active space only), so its one space is
    chunks.embedding.
    """
    renamed: dict[int, int] = {}
    start = 0
    for file_id, group in itertools.groupby(rows, key=lambda row: row["file_id"]):
        block = list(group)
        stored = [_stored(row) for row in block]
        vectors = [SpaceVectors(None, embeddings[start : start + len(block)])]
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
