"""Ingest documents through the real pipeline: upload, batch, jobs run by a worker."""

from __future__ import annotations

import io
from collections.abc import Sequence

from ragstore.ingest.chunk import AUTO, Chunker, ChunkingStrategy
from ragstore.ingest.embed import Embedder
from ragstore.models import DEFAULT_TENANT, VectorStore
from ragstore.service import files, ingestion, stores
from ragstore.store.db import Database
from ragstore.worker import Worker, ingestion_tasks
from tests.support.documents import Document


def ingest(
    db: Database,
    embedder: Embedder,
    chunker: Chunker,
    documents: Sequence[Document],
    *,
    store: VectorStore | None = None,
    strategy: ChunkingStrategy = AUTO,
    attributes: dict | None = None,
    tenant_id: str = DEFAULT_TENANT,
) -> tuple[VectorStore, str]:
    """Upload documents into a store (a new one unless given) and run every job; return (store, batch id)."""
    store = store or stores.create(db, tenant_id, embedder, "handbook")
    file_ids = [files.upload(db, tenant_id, d.filename, io.BytesIO(d.data)).id for d in documents]
    batch = ingestion.create_batch(db, tenant_id, store, file_ids, strategy, attributes)
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()
    return store, batch
