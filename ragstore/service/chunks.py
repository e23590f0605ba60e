"""A file's chunks written with their vectors in every live embedding space of its store: the one writer that
ingestion, the importers and restore share.

A store that was never re-embedded keeps its vectors in chunks.embedding. Once re-embedded, every live space gets
each new chunk's vector (service/spaces.py): the store's first space in chunks.embedding unless it was dropped,
each other one in chunk_vectors. The callers embed beforehand, outside their write transaction (embedding is the
slow part, and a transaction held open meanwhile would hold its locks and a pooled connection), in the spaces
`spaces.live_spaces` names; `write` then runs inside that transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragstore.ingest.chunk import Chunk
from ragstore.models import EmbeddingSpace
from ragstore.service import Connection
from ragstore.store import chunks, spaces
from ragstore.store.chunks import ChunkRow

__all__ = ["ChunkRow", "SpaceVectors", "rows", "usage_bytes", "write"]


@dataclass(frozen=True)
class SpaceVectors:
    """A file's chunk vectors in one embedding space, a row per chunk (space None: chunks.embedding of a store
    that has no space rows)."""

    space: EmbeddingSpace | None
    vectors: np.ndarray


def rows(pieces: Sequence[Chunk], attributes: Mapping[str, Any]) -> list[ChunkRow]:
    """New chunks as stored: the file's attributes over each chunk's own metadata (as an update of the file's
    attributes recomputes them), and the hash of their text."""
    return [
        ChunkRow(
            piece.index,
            piece.text,
            piece.token_count,
            piece.page,
            {**piece.metadata, **attributes},
            dict(piece.metadata),
            piece.content_hash,
        )
        for piece in pieces
    ]


def write(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    file_id: str,
    stored: Sequence[ChunkRow],
    vectors: Sequence[SpaceVectors],
    language: str,
) -> list[int]:
    """Insert a file's chunks with their vectors in every space given, the first one first (inside the caller's
    transaction); their ids, in order."""
    first = vectors[0]
    in_chunks = first.vectors if first.space is None or first.space.in_chunks else None
    chunk_ids = chunks.insert_chunks(conn, tenant_id, store_id, file_id, stored, in_chunks, language)
    for each in vectors:
        if each.space is not None and not each.space.in_chunks:
            spaces.insert_vectors(conn, tenant_id, each.space.id, chunk_ids, each.vectors)
    return chunk_ids


def usage_bytes(pieces: Sequence[Chunk], vectors: Sequence[SpaceVectors]) -> int:
    """What a file's chunks count for in usage_bytes: their text, and their float16 vectors in every space."""
    text = sum(len(piece.text.encode("utf-8")) for piece in pieces)
    return text + sum(each.vectors.shape[0] * each.vectors.shape[1] * 2 for each in vectors)
