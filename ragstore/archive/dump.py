"""Backup: vector stores, or a whole tenant, read from one consistent snapshot and streamed into a new archive."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragstore.archive import format
from ragstore.archive.container import ArchiveWriter, write_embeddings_header
from ragstore.archive.progress import Progress, quiet
from ragstore.errors import RagstoreError
from ragstore.models import DEFAULT_TENANT
from ragstore.service import Connection, Database, archive, stores, tenants


@dataclass(frozen=True)
class Scope:
    """What an archive holds: some vector stores of a tenant (with their files), or the whole tenant."""

    tenant_id: str
    tenant_name: str
    store_ids: tuple[str, ...] | None = None  # None: the whole tenant

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "tenant" if self.store_ids is None else "vector_stores",
            "tenant": {"id": self.tenant_id, "name": self.tenant_name},
            "vector_store_ids": None if self.store_ids is None else list(self.store_ids),
        }


@dataclass(frozen=True)
class BackupReport:
    path: Path
    scope: Scope
    stores: dict[str, str]  # id -> name
    counts: dict[str, int]
    bytes: int
    seconds: float


def resolve_scope(db: Database, tenant: str | None, store_names: Sequence[str] = ()) -> Scope:
    """The scope named on the command line: stores by name or id within the tenant (default: the default one)."""
    owner = tenants.get_tenant(db, tenant or DEFAULT_TENANT)
    if not store_names:
        return Scope(owner.id, owner.name)
    found = [stores.resolve(db, owner.id, name).id for name in store_names]
    return Scope(owner.id, owner.name, tuple(dict.fromkeys(found)))


def backup(db: Database, scope: Scope, path: Path, progress: Progress = quiet) -> BackupReport:
    """Write the scope to a new archive at path (in place only once complete); report what it holds."""
    began = time.perf_counter()
    tenant_id, store_ids = scope.tenant_id, scope.store_ids
    with archive.snapshot(db, tenant_id) as conn, ArchiveWriter(path) as writer:
        totals = archive.counts(conn, tenant_id, store_ids)
        found = list(archive.select_rows(conn, "vector_stores", tenant_id, store_ids))
        if store_ids is not None and len(found) != len(store_ids):
            raise RagstoreError("A vector store was deleted while the backup started; run it again.")
        counts = {"files": _dump_files(conn, writer, scope, progress)}
        counts["vector_stores"] = writer.write_rows(format.table_member("vector_stores"), found)
        for kind in ("file_batches", "vector_store_files", "imported_files"):
            rows = archive.select_rows(conn, kind, tenant_id, store_ids)
            counts[kind] = writer.write_rows(format.table_member(kind), rows)
        spaces = {
            store["id"]: format.space_entry(archive.active_space(conn, tenant_id, store["id"])) for store in found
        }
        store_chunks = {store["id"]: _dump_chunks(conn, writer, tenant_id, store, progress) for store in found}
        counts["chunks"] = sum(store_chunks.values())
        if store_ids is None:
            with progress(desc="chat", total=sum(totals[kind] for kind in format.CHAT_KINDS), unit="row") as bar:
                for kind in format.CHAT_KINDS:
                    rows = archive.select_rows(conn, kind, tenant_id)
                    counts[kind] = writer.write_rows(format.table_member(kind), rows, bar)
        manifest = format.build_manifest(scope.describe(), found, spaces, store_chunks, counts, writer.members)
        size = writer.finish(manifest)
    names = {store["id"]: store["name"] for store in found}
    return BackupReport(path, scope, names, manifest["counts"], size, time.perf_counter() - began)


def _dump_files(conn: Connection, writer: ArchiveWriter, scope: Scope, progress: Progress) -> int:
    """files.jsonl, then each file's bytes as its own member, streamed part by part."""
    listed: list[tuple[str, int]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for row in archive.select_rows(conn, "files", scope.tenant_id, scope.store_ids):
            listed.append((row["id"], row["bytes"]))
            yield row

    count = writer.write_rows(format.table_member("files"), rows())
    with progress(desc="files", total=sum(size for _, size in listed), unit="B", unit_scale=True) as bar:
        for file_id, _ in listed:
            with writer.member(format.file_member(file_id)) as out:
                for part in archive.file_parts(conn, scope.tenant_id, file_id):
                    out.write(part)
                    bar.update(len(part))
    return count


def _dump_chunks(
    conn: Connection, writer: ArchiveWriter, tenant_id: str, store: dict[str, Any], progress: Progress
) -> int:
    """A store's chunks (JSON lines), then their embeddings in the same order (.npy, float16)."""
    store_id, dimension = store["id"], store["embedding_dim"]
    total = archive.store_chunk_count(conn, tenant_id, store_id)
    with progress(desc=f"chunks {store['name'] or store_id}", total=2 * total, unit="row") as bar:
        written = writer.write_rows(
            format.chunks_member(store_id), archive.select_chunks(conn, tenant_id, store_id), bar
        )
        vectors = 0
        with writer.member(format.embeddings_member(store_id), compress=False) as out:
            write_embeddings_header(out, total, dimension)
            for block in archive.select_embeddings(conn, tenant_id, store_id):
                if block.shape[1] != dimension:
                    raise RagstoreError(
                        f"Vector store {store_id} records {dimension}-d embeddings but holds {block.shape[1]}-d ones."
                    )
                out.write(block.astype(format.EMBEDDING_DTYPE).tobytes())
                vectors += len(block)
                bar.update(len(block))
    if not written == vectors == total:  # cannot happen within one snapshot; the .npy header would lie
        raise RagstoreError(f"Vector store {store_id} changed during the backup; run it again.")
    return total
