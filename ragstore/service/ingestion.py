"""Ingestion: files attached to a store become jobs; a job parses, chunks, embeds and stores one file.

A file's chunks and its `completed` status are written in one transaction, after checking under a row lock
that the file is still in progress: a job that runs twice (its worker died after committing) changes nothing,
a cancelled or detached file gets no chunks, and a file is either fully searchable or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ragstore import ids
from ragstore.errors import FileError
from ragstore.ingest import parse
from ragstore.ingest.chunk import AUTO, Chunker, ChunkingStrategy
from ragstore.ingest.embed import Embedder, embed_chunks
from ragstore.models import FileCounts, FileFailure, Job, VectorStore
from ragstore.service import Connection, Database, chunks, spaces
from ragstore.service import files as file_service
from ragstore.store import files, jobs, vector_store_files, vector_stores

log = logging.getLogger(__name__)

INGEST_FILE = "ingest_file"


@dataclass(frozen=True)
class FileSpec:
    """A file to attach to a store, with how to chunk it and its attributes."""

    file_id: str
    strategy: ChunkingStrategy = AUTO
    attributes: dict[str, Any] | None = None


def chunking(max_tokens: int | None = None, overlap_tokens: int | None = None) -> ChunkingStrategy:
    """The strategy a request asks for: `auto` without numbers, else static (its bounds checked)."""
    if max_tokens is None:
        return AUTO
    return ChunkingStrategy(max_tokens, overlap_tokens or 0)


def attach(
    db: Database,
    tenant_id: str,
    store: VectorStore,
    specs: Sequence[FileSpec],
    *,
    batch: bool,
    max_attempts: int = 3,
    conn: Connection | None = None,
) -> str | None:
    """Attach files to a store, each queued as a job, all or none; return the batch id if batch.

    A file already in the store is replaced: its old chunks go, and it is ingested again.
    """
    batch_id = ids.new(ids.FILE_BATCH) if batch else None
    with db.transaction(tenant_id, conn) as conn:
        if batch_id:
            vector_store_files.insert_file_batch(conn, tenant_id, batch_id, store.id)
        for spec in specs:
            file_service.get(db, tenant_id, spec.file_id, conn=conn)
            attach_id = ids.new(ids.ATTACH)
            vector_store_files.attach_vector_store_file(
                conn,
                tenant_id,
                store.id,
                spec.file_id,
                batch_id,
                spec.strategy.max_tokens,
                spec.strategy.overlap_tokens,
                spec.attributes,
                attach_id,
            )
            args = {"vector_store_id": store.id, "file_id": spec.file_id, "attach_id": attach_id}
            jobs.enqueue_job(conn, tenant_id, INGEST_FILE, args, max_attempts)
    return batch_id


def create_batch(
    db: Database,
    tenant_id: str,
    store: VectorStore,
    file_ids: Sequence[str],
    strategy: ChunkingStrategy,
    attributes: dict[str, Any] | None = None,
    max_attempts: int = 3,
) -> str:
    """Attach files with one strategy and attributes as one batch; return the batch id."""
    specs = [FileSpec(file_id, strategy, attributes) for file_id in file_ids]
    batch_id = attach(db, tenant_id, store, specs, batch=True, max_attempts=max_attempts)
    assert batch_id is not None
    return batch_id


def batch_counts(db: Database, tenant_id: str, batch_id: str) -> FileCounts:
    with db.tenant(tenant_id) as conn:
        return vector_store_files.batch_file_counts(conn, tenant_id, batch_id)


def batch_failures(db: Database, tenant_id: str, batch_id: str) -> list[FileFailure]:
    with db.tenant(tenant_id) as conn:
        return vector_store_files.batch_failures(conn, tenant_id, batch_id)


def run_ingest_job(db: Database, embedder: Embedder, chunker: Chunker, job: Job) -> None:
    """Parse, chunk, embed and store one file of one store. Bad files fail alone, with last_error.

    Three transactions, not one: the file and its store are read, the chunks embedded outside any transaction
    (the slow part), then written in one that checks first that the file is still this job's.
    """
    store_id, file_id = job.args["vector_store_id"], job.args["file_id"]
    with db.tenant(job.tenant_id) as conn:
        attached = vector_store_files.get_vector_store_file(conn, job.tenant_id, store_id, file_id)
        record = files.get_file(conn, job.tenant_id, file_id)
    if attached is None or record is None or not _still_ours(attached.status, attached.attach_id, job):
        return
    strategy = ChunkingStrategy(attached.chunk_size_tokens, attached.chunk_overlap_tokens)
    try:
        sections = parse.parse(record.filename, file_service.read_bytes(db, job.tenant_id, file_id))
        pieces = chunker.chunk(sections, strategy)
    except FileError as exc:
        log.info("file %s (%s) failed: %s", file_id, record.filename, exc.message)
        fail_file(db, job.tenant_id, store_id, file_id, exc.code or "invalid_file", exc.message, attached.attach_id)
        return
    texts = [piece.text for piece in pieces]
    with db.tenant(job.tenant_id) as conn:
        store = vector_stores.get_vector_store(conn, job.tenant_id, store_id)
        if store is None:
            return
        live = spaces.live_spaces(conn, job.tenant_id, store, embedder)
    # Embedded before the write transaction, in every live space of the store (the first one, a space being built,
    # the way back): a space registered meanwhile is filled by its build, which runs until nothing is missing.
    embedded = [chunks.SpaceVectors(each.space, embed_chunks(each.embedder, chunker, texts)) for each in live]
    with db.tenant(job.tenant_id) as conn:
        current = vector_store_files.lock_vector_store_file(conn, job.tenant_id, store_id, file_id)
        if current is None or not _still_ours(current["status"], current["attach_id"], job):
            return
        stored = chunks.rows(pieces, dict(current["attributes"] or {}))
        chunks.write(conn, job.tenant_id, store_id, file_id, stored, embedded, current["text_search_language"])
        usage = chunks.usage_bytes(pieces, embedded)
        vector_store_files.complete_vector_store_file(conn, job.tenant_id, store_id, file_id, usage, len(pieces))


def _still_ours(status: str, attach_id: str, job: Job) -> bool:
    """The file is in progress under this job's attach (not cancelled, detached or attached again since)."""
    return status == "in_progress" and attach_id == job.args.get("attach_id", attach_id)


def fail_file(
    db: Database, tenant_id: str, store_id: str, file_id: str, code: str, message: str, attach_id: str | None = None
) -> None:
    """Mark an in-progress file failed with its last_error."""
    with db.tenant(tenant_id) as conn:
        vector_store_files.fail_vector_store_file(conn, tenant_id, store_id, file_id, code, message, attach_id)


def give_up_ingest_job(db: Database, job: Job, error: str) -> None:
    """A job out of attempts: its file fails with a server_error (the details are in the server's log)."""
    message = f"Ingestion failed after {job.attempts} attempts; the server's log has the details."
    args = job.args
    fail_file(
        db, job.tenant_id, args["vector_store_id"], args["file_id"], "server_error", message, args.get("attach_id")
    )
