"""Integrity: `ragstore check` finds what should not be in a tenant's stores, explains it, and repairs it on request.

What is looked for, and what repairing does (in this order, so that later steps see the earlier ones' result):
- orphan chunks: chunks whose attachment is gone or not completed (search would return them): deleted;
- stale embeddings: chunks whose text changed after they were embedded (their content hash is not their text's
  sha256) or with an embedding that is not a unit vector, and missing embeddings: chunks without a vector in a space
  that searches or a rollback rely on: embedded again in every live space of their store (as ingestion writes them),
  with their text-search data;
- count mismatches: attachments whose chunk_count, lexical_tokens (BM25) or usage_bytes differ from their chunks':
  counted again (a store's own file_counts are counted live from its files, so they cannot drift);
- files without chunks (completed, yet nothing of them is found) and stuck files (in progress, with no job that will
  finish them): queued for ingestion again, with their own chunking and attributes;
- duplicate files: the same file (name and bytes) attached to a store more than once (an ingest run twice, say),
  so every passage comes back twice: the later copies detached when they are chunked and attributed as the first,
  else left to the user (they may be meant to differ), and said.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragstore.errors import RagstoreError
from ragstore.ingest.chunk import Chunker, ChunkingStrategy
from ragstore.ingest.embed import Embedder, embed_chunks
from ragstore.service import ingestion, spaces, stores, vector_store_files
from ragstore.store import integrity, vector_stores
from ragstore.store.db import Connection, Database

REEMBED_BATCH = 256

# kind -> (title, why it matters, what --repair does)
KINDS = {
    "orphan_chunks": (
        "orphan chunks",
        "chunks whose attachment is gone or not completed; searches still return them",
        "deletes them",
    ),
    "stale_embeddings": (
        "stale embeddings",
        "chunks whose text changed after they were embedded, or whose embedding is not a unit vector; searches "
        "find them by what they used to say",
        "embeds them again",
    ),
    "missing_embeddings": (
        "missing embeddings",
        "chunks without a vector in a space that searches or a rollback use; searches cannot find them",
        "embeds them again",
    ),
    "count_mismatches": (
        "count mismatches",
        "per-file counters that differ from the chunks; they choose exact search, weigh BM25 and report usage",
        "counts them again",
    ),
    "empty_files": (
        "files without chunks",
        "completed attachments with no chunk; the file is listed but nothing of it can be found",
        "queues them for ingestion again",
    ),
    "stuck_files": (
        "stuck files",
        "attachments in progress that no queued or running job will finish",
        "queues them for ingestion again",
    ),
    "duplicate_files": (
        "duplicate files",
        "the same file (name and bytes) attached to a store more than once; searches return each passage once per copy",
        "detaches the later copies chunked and attributed as the first",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file of a store (or with chunks that claim to belong to it)."""

    kind: str
    vector_store_id: str
    file_id: str
    filename: str | None
    detail: str
    chunk_ids: tuple[int, ...] = ()
    strategy: ChunkingStrategy | None = None  # how to ingest it again
    attributes: dict[str, Any] | None = None
    same_as_first: bool = False  # a duplicate file chunked and attributed as the first copy


@dataclass(frozen=True)
class Findings:
    """A tenant's check: what it holds, and its problems."""

    tenant_id: str
    totals: dict[str, int]
    problems: list[Problem]

    @property
    def clean(self) -> bool:
        return not self.problems

    def of_kind(self, kind: str) -> list[Problem]:
        return [problem for problem in self.problems if problem.kind == kind]


@dataclass
class Repairs:
    """What a repair did, and what it could not do."""

    deleted_chunks: int = 0
    reembedded_chunks: int = 0
    recounted_files: int = 0
    requeued_files: int = 0
    detached_files: int = 0
    batches: list[tuple[str, str]] = field(default_factory=list)  # (vector store id, batch id) to wait for
    skipped: list[str] = field(default_factory=list)


def check(db: Database, tenant_id: str) -> Findings:
    """Every problem of the tenant's stores, in one transaction."""
    with db.tenant(tenant_id) as conn:
        totals = integrity.totals(conn, tenant_id)
        problems = [
            *_orphans(integrity.orphan_chunks(conn, tenant_id)),
            *_stale(integrity.stale_chunks(conn, tenant_id)),
            *_missing(integrity.missing_embeddings(conn, tenant_id)),
            *_counts(integrity.file_count_mismatches(conn, tenant_id)),
            *_to_ingest("empty_files", integrity.empty_files(conn, tenant_id), "completed with 0 chunks"),
            *_to_ingest("stuck_files", integrity.stuck_files(conn, tenant_id), "in progress without a job"),
            *_duplicates(integrity.duplicate_files(conn, tenant_id)),
        ]
    return Findings(tenant_id, totals, problems)


def _orphans(rows: list[dict[str, Any]]) -> list[Problem]:
    return [
        Problem(
            "orphan_chunks",
            r["vector_store_id"],
            r["file_id"],
            r["filename"],
            f"{_chunks(r['chunks'])} of {_ATTACHMENTS.get(r['status'], 'an attachment that is ' + r['status'])}",
        )
        for r in rows
    ]


_ATTACHMENTS = {
    "detached": "an attachment that no longer exists",
    "in_progress": "an in-progress attachment",
    "failed": "a failed attachment",
    "cancelled": "a cancelled attachment",
}


def _chunks(count: int) -> str:
    return f"{count} chunk" + ("" if count == 1 else "s")


def _stale(rows: list[dict[str, Any]]) -> list[Problem]:
    by_file: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_file[(row["vector_store_id"], row["file_id"], row["filename"])].append(row)
    problems = []
    for (store_id, file_id, filename), found in by_file.items():
        reasons = []
        if any(r["changed"] for r in found):
            reasons.append("text changed since embedded")
        if any(r["bad_norm"] for r in found):
            reasons.append("embedding not a unit vector")
        detail = f"{_chunks(len(found))} (index {_indexes(found)}): {' and '.join(reasons)}"
        problems.append(Problem("stale_embeddings", store_id, file_id, filename, detail, _ids(found)))
    return problems


def _missing(rows: list[dict[str, Any]]) -> list[Problem]:
    by_file: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_file[(row["vector_store_id"], row["file_id"], row["filename"])].append(row)
    problems = []
    for (store_id, file_id, filename), found in by_file.items():
        where = sorted({f"space {r['space_id']}" if r["space_id"] else "chunks.embedding" for r in found})
        detail = f"{_chunks(len(found))} (index {_indexes(found)}): no vector in {', '.join(where)}"
        problems.append(Problem("missing_embeddings", store_id, file_id, filename, detail, _ids(found)))
    return problems


def _indexes(rows: list[dict[str, Any]]) -> str:
    indexes = sorted({r["chunk_index"] for r in rows})
    return ", ".join(map(str, indexes[:10])) + (", ..." if len(indexes) > 10 else "")


def _ids(rows: list[dict[str, Any]]) -> tuple[int, ...]:
    return tuple(sorted({r["id"] for r in rows}))


def _counts(rows: list[dict[str, Any]]) -> list[Problem]:
    problems = []
    for r in rows:
        drift = [
            f"{name} {r[name]}, actually {r['actual_' + actual]}"
            for name, actual in (
                ("chunk_count", "chunks"),
                ("lexical_tokens", "lexical_tokens"),
                ("usage_bytes", "usage_bytes"),
            )
            if r[name] != r["actual_" + actual]
        ]
        problems.append(
            Problem("count_mismatches", r["vector_store_id"], r["file_id"], r["filename"], "; ".join(drift))
        )
    return problems


def _to_ingest(kind: str, rows: list[dict[str, Any]], detail: str) -> list[Problem]:
    return [
        Problem(
            kind,
            r["vector_store_id"],
            r["file_id"],
            r["filename"],
            detail,
            strategy=ChunkingStrategy(r["chunk_size_tokens"], r["chunk_overlap_tokens"]),
            attributes=r["attributes"],
        )
        for r in rows
    ]


def _duplicates(rows: list[dict[str, Any]]) -> list[Problem]:
    return [
        Problem(
            "duplicate_files",
            r["vector_store_id"],
            r["file_id"],
            r["filename"],
            f"the same bytes as {r['first_file_id']}"
            + ("" if r["same_settings"] else ", chunked or attributed differently: not detached by --repair"),
            same_as_first=bool(r["same_settings"]),
        )
        for r in rows
    ]


def repair(db: Database, embedder: Embedder, chunker: Chunker, findings: Findings) -> Repairs:
    """Repair what the check found (see the module's docstring); the files queued again are ingested by workers."""
    tenant_id, done = findings.tenant_id, Repairs()
    if findings.of_kind("orphan_chunks"):
        with db.tenant(tenant_id) as conn:
            done.deleted_chunks = integrity.delete_orphan_chunks(conn, tenant_id)
    again = [p for kind in ("stale_embeddings", "missing_embeddings") for p in findings.of_kind(kind)]
    touched = _embed_again(db, embedder, chunker, tenant_id, sorted({i for p in again for i in p.chunk_ids}), done)
    touched |= {(p.vector_store_id, p.file_id) for p in findings.of_kind("count_mismatches")}
    with db.tenant(tenant_id) as conn:
        done.recounted_files = integrity.recount_files(conn, tenant_id, sorted(touched))
    _requeue(db, tenant_id, findings.of_kind("empty_files") + findings.of_kind("stuck_files"), done)
    _detach_copies(db, tenant_id, findings.of_kind("duplicate_files"), done)
    return done


def _detach_copies(db: Database, tenant_id: str, problems: list[Problem], done: Repairs) -> None:
    """Detach the later copies that differ from the first in nothing; the others are said, not touched."""
    with db.transaction(tenant_id) as conn:
        for problem in problems:
            if not problem.same_as_first:
                _skip(done, f"{problem.file_id} in {problem.vector_store_id}: {problem.detail}")
                continue
            vector_store_files.detach(db, tenant_id, problem.vector_store_id, problem.file_id, conn=conn)
            done.detached_files += 1


def _embed_again(
    db: Database, embedder: Embedder, chunker: Chunker, tenant_id: str, chunk_ids: list[int], done: Repairs
) -> set[tuple[str, str]]:
    """Embed chunks again in every live space of their store, in batches; return the (store, file) attachments
    whose chunks changed."""
    touched: set[tuple[str, str]] = set()
    for start in range(0, len(chunk_ids), REEMBED_BATCH):
        with db.tenant(tenant_id) as conn:
            rows = integrity.chunks_to_reembed(conn, tenant_id, chunk_ids[start : start + REEMBED_BATCH])
            plans = _targets(conn, tenant_id, embedder, {row["vector_store_id"] for row in rows}, done)
        embedded = {}
        for store_id, targets in plans.items():
            texts = [row["text"] for row in rows if row["vector_store_id"] == store_id]
            try:
                embedded[store_id] = [embed_chunks(target.embedder, chunker, texts) for target in targets]
            except RagstoreError as exc:
                _skip(done, f"chunks of {store_id} were not embedded again: {exc.message}")
        with db.tenant(tenant_id) as conn:
            for store_id, vectors in embedded.items():
                mine = [row for row in rows if row["vector_store_id"] == store_id]
                touched |= _write_again(conn, tenant_id, chunker, mine, plans[store_id], vectors, done)
    return touched


def _targets(
    conn: Connection, tenant_id: str, embedder: Embedder, store_ids: set[str], done: Repairs
) -> dict[str, list[spaces.LiveSpace]]:
    """The spaces each store's chunks are written in, with their embedders (a store whose model cannot be reached
    here is skipped, and said)."""
    plans = {}
    for store_id in sorted(store_ids):
        store = vector_stores.get_vector_store(conn, tenant_id, store_id)
        if store is None:
            continue  # deleted since the check: nothing left to repair
        try:
            plans[store_id] = spaces.live_spaces(conn, tenant_id, store, embedder)
        except RagstoreError as exc:
            _skip(done, f"chunks of {store_id} were not embedded again: {exc.message}")
    return plans


def _write_again(
    conn: Connection,
    tenant_id: str,
    chunker: Chunker,
    rows: list[dict[str, Any]],
    targets: list[spaces.LiveSpace],
    vectors: list[np.ndarray],
    done: Repairs,
) -> set[tuple[str, str]]:
    """The chunks' new vectors in each space, their hash and text-search data (inside the caller's transaction)."""
    first_in_chunks = targets[0].space is None or targets[0].space.in_chunks
    touched = set()
    for i, row in enumerate(rows):
        first = vectors[0][i] if first_in_chunks else None
        count = chunker.count(row["text"])
        key = integrity.reembed_chunk(
            conn, tenant_id, row["id"], row["text"], first, count, row["text_search_language"]
        )
        if key is None:  # its text changed meanwhile: the next check finds it
            continue
        for target, found in zip(targets, vectors, strict=True):
            if target.space is not None and not target.space.in_chunks:
                integrity.upsert_chunk_vector(conn, tenant_id, target.space.id, row["id"], found[i])
        touched.add(key)
        done.reembedded_chunks += 1
    return touched


def _skip(done: Repairs, reason: str) -> None:
    if reason not in done.skipped:
        done.skipped.append(reason)


def _requeue(db: Database, tenant_id: str, problems: list[Problem], done: Repairs) -> None:
    """Attach the files again, a batch per store, each with its own chunking and attributes."""
    by_store: dict[str, list[ingestion.FileSpec]] = defaultdict(list)
    for problem in problems:
        assert problem.strategy is not None
        by_store[problem.vector_store_id].append(
            ingestion.FileSpec(problem.file_id, problem.strategy, problem.attributes)
        )
    for store_id, specs in by_store.items():
        store = stores.get(db, tenant_id, store_id)
        batch_id = ingestion.attach(db, tenant_id, store, specs, batch=True)
        assert batch_id is not None
        done.batches.append((store_id, batch_id))
        done.requeued_files += len(specs)
