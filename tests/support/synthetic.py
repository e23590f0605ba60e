"""Synthetic stores of clustered unit vectors, loaded straight into the tables with COPY (tests and bench)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import psycopg
from pgvector import HalfVector

DIM = 384


class QueryEmbedder:
    """Hands search a fixed query vector: synthetic stores hold vectors, not text."""

    model, dimension, batch_size, max_tokens = "all-MiniLM-L6-v2", DIM, 1, None

    def __init__(self, query: np.ndarray) -> None:
        self.query = query

    def embed(self, texts):
        return np.stack([self.query] * len(texts))


def clustered(
    rng: np.random.Generator, n: int, clusters: int = 50, spread: float = 0.35, centres: np.ndarray | None = None
) -> np.ndarray:
    """n unit vectors around `clusters` random centres: closer to real embeddings than uniform noise.

    centres: given ones instead (then `clusters` is unused), so that several draws share them.
    """
    if centres is None:
        centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    clusters = len(centres)
    points = centres[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, DIM)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def create_store(conn: psycopg.Connection, tenant_id: str, store_id: str, chunk_count: int = 0) -> str:
    """A tenant (if new) and a store with one completed file of chunk_count chunks (still to be written), as the
    owner; the file's id."""
    file_id = f"file-{store_id}"
    conn.execute("INSERT INTO tenants (id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING", (tenant_id, tenant_id))
    conn.execute(
        "INSERT INTO files (tenant_id, id, filename, purpose, bytes, sha256) "
        "VALUES (%s, %s, 'synthetic.txt', 'assistants', 0, '')",
        (tenant_id, file_id),
    )
    conn.execute(
        "INSERT INTO vector_stores (tenant_id, id, embedding_model, embedding_dim) "
        "VALUES (%s, %s, 'all-MiniLM-L6-v2', 384)",
        (tenant_id, store_id),
    )
    conn.execute(
        "INSERT INTO vector_store_files (tenant_id, vector_store_id, file_id, status, chunk_size_tokens, "
        "chunk_overlap_tokens, chunk_count) VALUES (%s, %s, %s, 'completed', 250, 50, %s)",
        (tenant_id, store_id, file_id, chunk_count),
    )
    return file_id


@contextlib.contextmanager
def copy_chunks(conn: psycopg.Connection) -> Iterator[psycopg.Copy]:
    """A binary COPY into chunks of rows (tenant, store, file, index, text, tokens, hash, halfvec)."""
    with conn.cursor().copy(
        "COPY chunks (tenant_id, vector_store_id, file_id, chunk_index, text, token_count, content_hash, embedding) "
        "FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "text", "text", "int4", "text", "int4", "text", "halfvec"])
        yield copy


def load_store(conn: psycopg.Connection, tenant_id: str, store_id: str, vectors: np.ndarray, start: int = 0) -> None:
    """A tenant (if new), a store with one file, and one chunk per vector, as the owner (bypassing the API).

    start: append to the store an earlier call made, numbering the new chunks from there.
    """
    file_id = f"file-{store_id}"
    if start == 0:
        create_store(conn, tenant_id, store_id)
    conn.execute(
        "UPDATE vector_store_files SET chunk_count = chunk_count + %s WHERE tenant_id = %s AND vector_store_id = %s",
        (len(vectors), tenant_id, store_id),
    )
    with copy_chunks(conn) as copy:
        for i, vector in enumerate(vectors, start):
            copy.write_row((tenant_id, store_id, file_id, i, f"chunk {i}", 1, "", HalfVector(vector)))


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """Indexes of the k vectors nearest to query by cosine."""
    return list(np.argsort(-(vectors @ query), kind="stable")[:k])
