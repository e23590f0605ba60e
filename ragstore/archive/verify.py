"""Verify: an archive against the live stores it was made from (or restored into).

Checks, each passing or failing on its own: the archive's own checksums; counts per kind; every file's bytes
(sha256 recomputed from the database); each store's embedding space (provider, model, dimension); every chunk
(text hash recomputed in the database, fields, embeddings bit for bit), walking the archive's chunks and the live
ones side by side; and sample searches (see searches.py).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ragstore.archive import format, searches
from ragstore.archive.checks import Check
from ragstore.archive.container import ArchiveReader
from ragstore.archive.format import ArchiveDamaged
from ragstore.archive.progress import Progress, quiet
from ragstore.errors import NotFound
from ragstore.ingest.embed import Embedder
from ragstore.service import Connection, Database, archive, tenants

SAMPLE_SEED = 6


def verify(
    db: Database,
    embedder: Embedder,
    path: Path,
    *,
    tenant: str | None = None,
    samples: int = 5,
    k: int = 10,
    progress: Progress = quiet,
) -> list[Check]:
    """Every check of the archive at path against the live tenant (default: the archive's own)."""
    with ArchiveReader(path) as reader:
        try:
            size = reader.check(progress)
        except ArchiveDamaged as exc:
            return [Check("archive", "fail", exc.message)]
        manifest = reader.manifest
        members = len(manifest["members"])
        checks = [Check("archive", "pass", f"format {format.VERSION}, {members} members, {size:,} bytes: sha256 ok")]
        tenant_id = _tenant_id(db, manifest, tenant)
        store_ids = manifest["scope"].get("vector_store_ids")
        stores = list(reader.rows(format.table_member("vector_stores")))
        picked: dict[str, searches.Sample] = {}
        with archive.snapshot(db, tenant_id) as conn:
            checks += _counts(conn, reader, tenant_id, store_ids)
            checks.append(_files(conn, reader, tenant_id, store_ids, progress))
            for store in stores:
                checks.append(_space(conn, reader, tenant_id, store))
                check, picked[store["id"]] = _chunks(conn, reader, tenant_id, store, samples, progress)
                checks.append(check)
        for store in stores:
            checks.append(searches.check(db, embedder, reader, tenant_id, store, picked[store["id"]], k))
    return checks


def _tenant_id(db: Database, manifest: dict[str, Any], requested: str | None) -> str:
    source = manifest["scope"]["tenant"]
    found = (
        tenants.find_tenant(db, requested)
        if requested
        else tenants.find_tenant(db, source["id"]) or tenants.find_tenant(db, source["name"])
    )
    if found is None:
        raise NotFound(f"No tenant named or with id '{requested or source['name']}'.", param="tenant")
    return found.id


def _counts(conn: Connection, reader: ArchiveReader, tenant_id: str, store_ids: list[str] | None) -> list[Check]:
    """One check per kind: the archive's count against the live scope's, naming missing and extra objects."""
    live = archive.counts(conn, tenant_id, store_ids)
    archived = reader.manifest["counts"]
    kinds = format.KINDS if store_ids is None else (*format.STORE_KINDS, "chunks")
    checks = []
    for kind in kinds:
        detail = f"{archived.get(kind, 0)} in the archive, {live[kind]} live"
        if kind in ("files", "vector_stores"):
            detail += _differences(conn, reader, kind, tenant_id, store_ids)
        checks.append(Check(f"count {kind}", "pass" if archived.get(kind, 0) == live[kind] else "fail", detail))
    return checks


def _differences(
    conn: Connection, reader: ArchiveReader, kind: str, tenant_id: str, store_ids: list[str] | None
) -> str:
    label = "filename" if kind == "files" else "name"
    archived = {row["id"]: row[label] for row in reader.rows(format.table_member(kind))}
    live = {row["id"]: row[label] for row in archive.select_rows(conn, kind, tenant_id, store_ids)}
    parts = []
    for title, ids, names in (
        ("missing live", archived.keys() - live, archived),
        ("not in the archive", live.keys() - archived, live),
    ):
        if ids:
            shown = ", ".join(f"{object_id} ({names[object_id]})" for object_id in sorted(ids)[:5])
            parts.append(f"{title}: {shown}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else ""))
    return "; " + "; ".join(parts) if parts else ""


def _files(
    conn: Connection, reader: ArchiveReader, tenant_id: str, store_ids: list[str] | None, progress: Progress
) -> Check:
    """Each archived file's live bytes hashed again, against the archive's sha256 of them."""
    live = {row["id"]: row for row in archive.select_rows(conn, "files", tenant_id, store_ids)}
    archived = list(reader.rows(format.table_member("files")))
    problems, total = [], 0
    with progress(desc="verify files", total=sum(row["bytes"] for row in archived), unit="B", unit_scale=True) as bar:
        for row in archived:
            expected = reader.manifest["members"][format.file_member(row["id"])]["sha256"]
            if row["id"] not in live:
                problems.append(f"{row['id']} ({row['filename']}) is missing")
                continue
            digest = hashlib.sha256()
            for part in archive.file_parts(conn, tenant_id, row["id"]):
                digest.update(part)
                bar.update(len(part))
            total += row["bytes"]
            if digest.hexdigest() != expected or live[row["id"]]["sha256"] != row["sha256"]:
                problems.append(f"{row['id']} ({row['filename']}) has other bytes than the archive's")
    if problems:
        return Check(
            "files", "fail", "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
    return Check("files", "pass", f"{len(archived)} files, {total:,} bytes: same sha256 as the archive's")


def _space(conn: Connection, reader: ArchiveReader, tenant_id: str, store: dict[str, Any]) -> Check:
    """The live store's space against the archive's: chunks.embedding, or a space of its own of the same provider,
    model and dimension (its endpoint's URL may differ: a restore takes the one configured here)."""
    name = f"space {store['id']}"
    entry = reader.manifest["vector_stores"][store["id"]]
    if "space" not in entry:  # format version 1: the store's model and dimension are all it says
        return Check(name, "skip", "the archive (format version 1) does not record the store's space")
    want = _described(entry["space"])
    found = _described(format.space_entry(archive.active_space(conn, tenant_id, store["id"])))
    if found != want:
        return Check(name, "fail", f"the archive's store is in {want}, the live one in {found}")
    return Check(name, "pass", f"in {want}, as archived")


def _described(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "chunks.embedding"
    provider = entry["provider_id"] or entry["base_url"]
    return f"a space of its own ({entry['model']}, {entry['dimension']}-d, from {provider})"


def _chunks(
    conn: Connection, reader: ArchiveReader, tenant_id: str, store: dict[str, Any], samples: int, progress: Progress
) -> tuple[Check, searches.Sample]:
    """The archive's chunks of a store and the live ones side by side: missing, extra and changed ones."""
    store_id = store["id"]
    total = reader.manifest["vector_stores"][store_id]["chunks"]
    picks = set(random.Random(SAMPLE_SEED).sample(range(total), min(samples, total)))
    sample = searches.Sample(total)
    missing: list[tuple[str, int]] = []
    extra: list[tuple[str, int]] = []
    changed: Counter[str] = Counter()
    live = _peekable(archive.live_chunks(conn, tenant_id, store_id))
    with progress(desc=f"verify chunks {store['name'] or store_id}", total=total, unit="chunk") as bar:
        for number, (row, vector) in enumerate(_archived_chunks(reader, store, total)):
            key = (row["file_id"], row["chunk_index"])
            sample.add(key, row["text"] if number in picks else None)
            while live.head is not None and _key(live.head) < key:
                extra.append(_key(live.pop()))
            if live.head is None or _key(live.head) != key:
                missing.append(key)
            else:
                changed.update(_changes(row, vector, live.pop()))
            bar.update(1)
    while live.head is not None:
        extra.append(_key(live.pop()))
    name = f"chunks {store_id}"
    if not (missing or extra or changed):
        return Check(name, "pass", f"{total} chunks: same text, content hashes, fields and embeddings"), sample
    parts = [
        f"{len(missing)} missing live ({_shown(missing)})" if missing else "",
        f"{len(extra)} not in the archive ({_shown(extra)})" if extra else "",
        "changed: " + ", ".join(f"{field} in {n}" for field, n in sorted(changed.items())) if changed else "",
    ]
    return Check(name, "fail", "; ".join(part for part in parts if part)), sample


def _archived_chunks(reader: ArchiveReader, store: dict[str, Any], total: int) -> Iterator[tuple[dict, np.ndarray]]:
    store_id = store["id"]
    vectors = (
        vector
        for block in reader.embeddings(format.embeddings_member(store_id), total, store["embedding_dim"])
        for vector in block
    )
    yield from zip(reader.rows(format.chunks_member(store_id)), vectors, strict=True)


def _changes(row: dict[str, Any], vector: np.ndarray, live: dict[str, Any]) -> Iterator[str]:
    if hashlib.sha256(row["text"].encode()).hexdigest() != live["text_sha256"]:
        yield "text"
    for field in ("content_hash", "page", "token_count", "attributes", "doc_metadata", "lexical_length"):
        if row[field] != live[field]:
            yield field
    embedding = live["embedding"]
    if (
        embedding is None
        or vector.astype(format.EMBEDDING_DTYPE).tobytes() != embedding.astype(format.EMBEDDING_DTYPE).tobytes()
    ):
        yield "embedding"


def _key(row: dict[str, Any]) -> tuple[str, int]:
    return (row["file_id"], row["chunk_index"])


def _shown(keys: list[tuple[str, int]]) -> str:
    return ", ".join(f"{file_id} chunk {index}" for file_id, index in keys[:3]) + (" ..." if len(keys) > 3 else "")


class _peekable:
    """An iterator whose next item can be looked at first (head is None at the end)."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self._rows = rows
        self.head = next(rows, None)

    def pop(self) -> dict[str, Any]:
        head, self.head = self.head, next(self._rows, None)
        assert head is not None
        return head
