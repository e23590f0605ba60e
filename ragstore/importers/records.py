"""Records written straight into a store, without jobs: each becomes a file of its text, attached with its
attributes, with its chunks and their embeddings (given or computed here, in large batches).

A batch of records is embedded here, outside any transaction, then written in one (service/imports.py: a
statement per table for all its records; if that fails, one by one, each under a savepoint, so that one that fails
fails alone). A record whose fingerprint is unchanged since its last import is skipped; a changed one is written as
a new file and its older version is detached and deleted in the same transaction, so searches see one or the other.

Like the archive, the importers reach the database only through ragstore.service (its `Database` included).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ragstore import ids
from ragstore.errors import FileError, RagstoreError
from ragstore.importers.common import Progress, Record, Report, batched, fingerprint
from ragstore.ingest.chunk import MAX_TOKENS, Chunk, Chunker, ChunkingStrategy
from ragstore.ingest.embed import Embedder, embed_chunks
from ragstore.ingest.parse import Section
from ragstore.models import FileRecord, VectorStore
from ragstore.service import Database, chunks, imports, spaces
from ragstore.service.imports import ImportedFile, ImportedVersion, WholeFile

BATCH_RECORDS = 64
# Records imported as one chunk each are attached with this strategy, so that re-ingesting one (ragstore check
# --repair) keeps it whole up to the largest chunk there is.
WHOLE = ChunkingStrategy(MAX_TOKENS, 0)


@dataclass(frozen=True)
class Destination:
    """Where an import goes (a tenant's store) and how its records become chunks there: cut by strategy, or one
    chunk each when it is None."""

    db: Database
    tenant_id: str
    store: VectorStore
    embedder: Embedder
    chunker: Chunker
    strategy: ChunkingStrategy | None = None


@dataclass(frozen=True)
class _Pending:
    record: Record
    fingerprint: str
    older: list[str]  # file ids of the versions it replaces


def live_spaces(target: Destination) -> list[spaces.LiveSpace]:
    """The embedding spaces a new chunk of the store goes into, each with its embedder, as ingestion writes them
    (a store that was never re-embedded: one, chunks.embedding); a space whose model cannot be reached here fails."""
    with target.db.transaction(target.tenant_id) as conn:
        return spaces.live_spaces(conn, target.tenant_id, target.store, target.embedder)


def classify(older: Sequence[ImportedVersion], fp: str) -> str:
    """What to do with a source given its imported versions: 'unchanged', 'pending' (being ingested) or 'write'."""
    if older and older[0].fingerprint == fp and older[0].status in ("completed", "in_progress"):
        return "unchanged" if older[0].status == "completed" else "pending"
    return "write"


def load_versions(target: Destination, prefix: str) -> dict[str, list[ImportedVersion]]:
    return imports.versions(target.db, target.tenant_id, target.store.id, prefix)


def write_records(
    target: Destination, records: Iterable[Record], prefix: str, report: Report, progress: Progress
) -> None:
    """Import records whose keys start with prefix: new ones written, changed ones replaced, the rest skipped."""
    live_spaces(target)  # a store whose model cannot be reached here is said before anything is read
    versions = load_versions(target, prefix)
    seen: dict[str, str] = {}
    for batch in batched(records, BATCH_RECORDS):
        pending: list[_Pending] = []
        leftovers: list[str] = []
        for record in batch:
            if record.key in seen:
                report.fail(record.filename, f"the same source as {seen[record.key]} ({record.key}); imported once")
                continue
            seen[record.key] = record.filename
            fp = fingerprint(record, target.strategy, target.embedder.model)
            older = versions.get(record.key, [])
            if classify(older, fp) == "unchanged":
                report.unchanged += 1
                leftovers.extend(version.file_id for version in older[1:])
            else:
                pending.append(_Pending(record, fp, [version.file_id for version in older]))
        _write_batch(target, pending, leftovers, report)
        progress.advance(len(batch))


def _write_batch(target: Destination, pending: list[_Pending], leftovers: list[str], report: Report) -> None:
    prepared = []
    for item in pending:
        try:
            pieces = _chunks(target, item.record)
        except FileError as exc:  # a record past a file's limits (2,000,000 tokens) fails alone
            report.fail(item.record.filename, exc.message)
            continue
        if pieces:
            prepared.append((item, pieces))
        else:
            report.fail(item.record.filename, "no text")
    spaces_now = live_spaces(target) if prepared else []
    vectors: list[list[np.ndarray]] = []
    try:
        vectors = [_embeddings(target, space, prepared) for space in spaces_now]
    except RagstoreError as exc:
        for item, _ in prepared:
            report.fail(item.record.filename, f"embedding failed: {exc.message}")
        prepared = []
    ready = [
        _whole(target, item, pieces, spaces_now, [each[i] for each in vectors])
        for i, (item, pieces) in enumerate(prepared)
    ]
    imports.drop(target.db, target.tenant_id, target.store.id, leftovers)
    if ready:
        _write_ready(target, ready, report)


def _write_ready(target: Destination, ready: list[WholeFile], report: Report) -> None:
    """Write the batch at once; if the database refuses it, record by record, so that the refused one fails alone."""
    failed = imports.write_whole(target.db, target.tenant_id, target.store, ready)
    for one in ready:
        name = one.imported.file.filename
        if one.imported.file.id in failed:
            report.fail(name, failed[one.imported.file.id])
            continue
        report.chunks += len(one.pieces)
        if one.replaces:
            report.replaced += 1
        else:
            report.imported += 1


def _chunks(target: Destination, record: Record) -> list[Chunk]:
    if not record.text.strip():
        return []
    if target.strategy is None:
        return [Chunk(0, record.text, target.chunker.count(record.text))]
    return target.chunker.chunk([Section(record.text)], target.strategy)


def _embeddings(
    target: Destination, space: spaces.LiveSpace, prepared: list[tuple[_Pending, list[Chunk]]]
) -> list[np.ndarray]:
    """Each record's chunk vectors in one space: its own embedding when given and the space is of the model it was
    checked against (ragstore's own), else computed by the space's embedder, all in one call."""
    own = (space.embedder.model, space.embedder.dimension) == (target.embedder.model, target.embedder.dimension)
    given = [own and item.record.embedding is not None for item, _ in prepared]
    texts = [piece.text for (_, pieces), reuse in zip(prepared, given, strict=True) if not reuse for piece in pieces]
    computed = iter(embed_chunks(space.embedder, target.chunker, texts)) if texts else iter(())
    result = []
    for (item, pieces), reuse in zip(prepared, given, strict=True):
        if reuse:
            vector = np.asarray(item.record.embedding, dtype=np.float32)
            result.append((vector / (np.linalg.norm(vector) or 1.0))[None, :])
        else:
            result.append(np.stack([next(computed) for _ in pieces]))
    return result


def _whole(
    target: Destination,
    item: _Pending,
    pieces: list[Chunk],
    spaces_now: list[spaces.LiveSpace],
    vectors: list[np.ndarray],
) -> WholeFile:
    """A record as a completed file of the store, its chunks' vectors in every live space (as ingestion writes
    them), replacing its older versions."""
    record = item.record
    data = record.text.encode("utf-8")
    file = FileRecord(
        ids.new(ids.FILE), record.filename, "assistants", len(data), hashlib.sha256(data).hexdigest(), _now()
    )
    in_spaces = [chunks.SpaceVectors(each.space, v) for each, v in zip(spaces_now, vectors, strict=True)]
    strategy = target.strategy or WHOLE
    imported = ImportedFile(
        file,
        data,
        ids.new(ids.ATTACH),
        strategy.max_tokens,
        strategy.overlap_tokens,
        record.attributes or None,
        len(pieces),
        chunks.usage_bytes(pieces, in_spaces),
        record.key,
        item.fingerprint,
    )
    return WholeFile(imported, pieces, in_spaces, item.older)


def _now() -> datetime:
    return datetime.now(UTC)
