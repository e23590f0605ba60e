"""Restore: an archive into a tenant of this database, checked first, written in one transaction.

Before anything is written: every member's sha256, the format version, the embedding model (restored chunks keep
their embeddings, so the target must embed queries with the same model: each store goes into a space of the same
shape, see space.py; its HNSW index is built after the commit), the stores' text-search languages, and
the ids (an object that exists already in the target tenant refuses the whole restore; a file that exists with
the same id and the same bytes is shared instead). Object ids are kept; chunks get new ids from this database,
and the passages that messages and training examples cite are rewritten to them.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragstore import ids
from ragstore.archive import format
from ragstore.archive.container import ArchiveReader
from ragstore.archive.format import ArchiveConflict, ArchiveDamaged, ArchiveError
from ragstore.archive.progress import Progress, quiet
from ragstore.archive.space import restored_space
from ragstore.config import EmbeddingProvider
from ragstore.errors import Conflict, InvalidRequest, NotFound
from ragstore.models import EmbeddingSpace
from ragstore.service import Connection, Database, archive, stores, tenants

PART_SIZE = 1 << 20  # as uploads: file bytes are kept in 1 MiB parts
CHUNK_BLOCK = 500
_CITED = re.compile(r"chunk_(\d+)")
_IN_PROGRESS = "It was still being processed when the archive was made; attach it again."


@dataclass(frozen=True)
class Destination:
    """The tenant a restore writes into."""

    tenant_id: str
    tenant_name: str
    create: bool  # the tenant does not exist yet: the restore makes it


@dataclass(frozen=True)
class RestoreReport:
    target: Destination
    counts: dict[str, int]
    shared_files: int
    seconds: float


@dataclass
class _Plan:
    """What the archive would create, read from its tables before anything is written."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (sha256, bytes)
    cited: set[int] = field(default_factory=set)  # source chunk ids that messages cite
    spaces: dict[str, EmbeddingSpace | None] = field(default_factory=dict)  # store id -> its space (template)


def restore(
    db: Database,
    path: Path,
    model: tuple[str, int],
    *,
    tenant: str | None = None,
    store_name: str | None = None,
    providers: Mapping[str, EmbeddingProvider] | None = None,
    progress: Progress = quiet,
) -> RestoreReport:
    """Restore the archive at path into tenant (default: the archive's own, created if missing).

    model: this ragstore's (embedding model, dimension), which every archived store in chunks.embedding must have;
    providers: its named endpoints (RAGSTORE_EMBEDDING_PROVIDERS), which serve the stores of a space of their own.
    """
    began = time.perf_counter()
    with ArchiveReader(path) as reader:
        reader.check(progress)
        store_rows = list(reader.rows(format.table_member("vector_stores")))
        plan = _plan(reader)
        plan.spaces = _check_stores(reader, store_rows, model, providers or {}, store_name)
        _check_languages(db, store_rows)
        target = _target(db, reader.manifest, tenant)
        try:
            with archive.restoring(db, target.tenant_id, target.tenant_name if target.create else None) as conn:
                shared = _refuse_existing(conn, target, plan)
                counts = _write(conn, reader, target.tenant_id, store_rows, plan, shared, progress)
        except Conflict as exc:
            if isinstance(exc, ArchiveConflict):
                raise
            raise ArchiveConflict(f"Nothing was restored: {exc.message}") from exc
    archive.index_spaces(db, [space for space in plan.spaces.values() if space is not None])
    return RestoreReport(target, counts, len(shared), time.perf_counter() - began)


def _write(
    conn: Connection,
    reader: ArchiveReader,
    tenant_id: str,
    store_rows: list[dict[str, Any]],
    plan: _Plan,
    shared: set[str],
    progress: Progress,
) -> dict[str, int]:
    """Every kind in order (files, stores, batches, attachments, chunks, then the chat tables)."""
    counts = {"files": _load_files(conn, reader, tenant_id, shared, progress)}
    counts["vector_stores"] = archive.insert_rows(conn, "vector_stores", tenant_id, store_rows)
    for store_id, template in plan.spaces.items():
        if template is not None:
            plan.spaces[store_id] = archive.add_space(conn, tenant_id, store_id, template)
    counts["file_batches"] = archive.insert_rows(
        conn, "file_batches", tenant_id, reader.rows(format.table_member("file_batches"))
    )
    attachments = (_settled(row) for row in reader.rows(format.table_member("vector_store_files")))
    counts["vector_store_files"] = archive.insert_rows(conn, "vector_store_files", tenant_id, attachments)
    counts["imported_files"] = archive.insert_rows(
        conn, "imported_files", tenant_id, reader.rows(format.table_member("imported_files"))
    )
    renamed: dict[int, int] = {}
    counts["chunks"] = sum(
        _load_chunks(conn, reader, tenant_id, store, plan, renamed, progress) for store in store_rows
    )
    for kind in format.CHAT_KINDS:
        member = format.table_member(kind)
        if member in reader.manifest["members"]:
            rows = reader.rows(member)
            if kind in ("messages", "training_examples"):
                rows = (_recite(row, renamed) for row in rows)
            counts[kind] = archive.insert_rows(conn, kind, tenant_id, rows)
    return counts


def _check_stores(
    reader: ArchiveReader,
    store_rows: list[dict[str, Any]],
    model: tuple[str, int],
    providers: Mapping[str, EmbeddingProvider],
    store_name: str | None,
) -> dict[str, EmbeddingSpace | None]:
    """Each store's space here (refusing a model this ragstore cannot embed queries with), and refuse a new name for
    more than one store."""
    archived = reader.manifest["vector_stores"]
    if {s["id"] for s in store_rows} != set(archived):
        raise ArchiveDamaged(f"{reader.path} is damaged: its manifest and vector_stores.jsonl list different stores.")
    chosen = {
        store["id"]: restored_space(store, archived[store["id"]].get("space"), model, providers) for store in store_rows
    }
    if store_name is not None:
        if len(store_rows) != 1:
            raise InvalidRequest(
                f"--store-name renames an archive's one vector store; this one holds {len(store_rows)}."
            )
        store_rows[0]["name"] = store_name
    return chosen


def _check_languages(db: Database, archived: list[dict[str, Any]]) -> None:
    for language in {s["text_search_language"] for s in archived}:
        if not stores.language_exists(db, language):
            raise InvalidRequest(
                f"The archive's stores are analysed in the text-search language {language!r}, which this "
                "PostgreSQL does not have (SELECT cfgname FROM pg_ts_config lists those it has)."
            )


def _target(db: Database, manifest: dict[str, Any], requested: str | None) -> Destination:
    """The tenant to restore into: the one asked for (created if it is a new name), else the archive's own (found
    by id, else by name, else created with both)."""
    if requested:
        found = tenants.find_tenant(db, requested)
        if found is None and requested.startswith(ids.TENANT):
            raise NotFound(f"No tenant with id '{requested}'.", param="tenant")
        if found is None and not 0 < len(requested.strip()) <= 64:
            raise InvalidRequest("A tenant name is 1 to 64 characters.", param="tenant")
        return Destination(found.id, found.name, False) if found else Destination(ids.new(ids.TENANT), requested, True)
    source = manifest["scope"]["tenant"]
    found = tenants.find_tenant(db, source["id"]) or tenants.find_tenant(db, source["name"])
    return Destination(found.id, found.name, False) if found else Destination(source["id"], source["name"], True)


def _plan(reader: ArchiveReader) -> _Plan:
    """The archive's ids by kind, its files' digests, and the chunks its messages cite."""
    plan = _Plan()
    for kind in ("vector_stores", "file_batches", *format.CHAT_KINDS):
        member = format.table_member(kind)
        if kind == "dataset_examples" or member not in reader.manifest["members"]:
            continue
        plan.ids[kind] = []
        for row in reader.rows(member):
            plan.ids[kind].append(row["id"])
            if kind == "datasets":
                plan.ids.setdefault("dataset_names", []).append(row["name"])
            if kind in ("messages", "training_examples"):
                plan.cited.update(_cited_ids(row))
    for kind in ("vector_stores", "file_batches", *format.CHAT_KINDS, "dataset_names"):
        plan.ids.setdefault(kind, [])
    plan.files = {row["id"]: (row["sha256"], row["bytes"]) for row in reader.rows(format.table_member("files"))}
    return plan


def _refuse_existing(conn: Connection, target: Destination, plan: _Plan) -> set[str]:
    """Refuse when the tenant has any of the archive's objects; return the files to share (same id, same bytes)."""
    taken = archive.existing_ids(conn, target.tenant_id, plan.ids)
    present = archive.existing_files(conn, target.tenant_id, list(plan.files))
    taken += [("file", file_id) for file_id, digest in present.items() if digest != plan.files[file_id]]
    if taken:
        shown = ", ".join(f"{kind} {object_id}" for kind, object_id in taken[:5])
        more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
        raise ArchiveConflict(
            f"Tenant {target.tenant_name} ({target.tenant_id}) has objects of this archive already ({shown}{more}): "
            "nothing was restored. Restore into another tenant (--tenant NEW_NAME) or database, or delete them."
        )
    return set(present)


def _load_files(conn: Connection, reader: ArchiveReader, tenant_id: str, shared: set[str], progress: Progress) -> int:
    """files.jsonl (but the shared files), then each file's bytes in 1 MiB parts, checked against its sha256."""
    new: list[tuple[str, str, int]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for row in reader.rows(format.table_member("files")):
            if row["id"] not in shared:
                new.append((row["id"], row["sha256"], row["bytes"]))
                yield row

    count = archive.insert_rows(conn, "files", tenant_id, rows())
    with progress(desc="files", total=sum(size for *_, size in new), unit="B", unit_scale=True) as bar:
        for file_id, sha256, _ in new:
            digest = hashlib.sha256()
            with reader.open(format.file_member(file_id)) as stream:
                for seq in itertools.count():
                    part = stream.read(PART_SIZE)
                    if not part:
                        break
                    digest.update(part)
                    archive.insert_file_part(conn, tenant_id, file_id, seq, part)
                    bar.update(len(part))
            if digest.hexdigest() != sha256:
                raise ArchiveError(f"{reader.path}: the bytes of {file_id} do not match the sha256 its record gives.")
    return count


def _load_chunks(
    conn: Connection,
    reader: ArchiveReader,
    tenant_id: str,
    store: dict[str, Any],
    plan: _Plan,
    renamed: dict[int, int],
    progress: Progress,
) -> int:
    """A store's chunks with their embeddings, block by block; notes the new ids of the cited ones in renamed."""
    store_id = store["id"]
    total = reader.manifest["vector_stores"][store_id]["chunks"]
    rows = reader.rows(format.chunks_member(store_id))
    vectors = reader.embeddings(format.embeddings_member(store_id), total, store["embedding_dim"], CHUNK_BLOCK)
    with progress(desc=f"chunks {store['name'] or store_id}", total=total, unit="chunk") as bar:
        for block in vectors:
            batch = list(itertools.islice(rows, len(block)))
            if len(batch) != len(block):
                raise ArchiveDamaged(f"{reader.path} is damaged: {store_id} has fewer chunks than embeddings.")
            written = archive.write_chunks(conn, tenant_id, store, batch, block, plan.cited, plan.spaces[store_id])
            renamed.update(written)
            bar.update(len(batch))
    if next(rows, None) is not None:
        raise ArchiveDamaged(f"{reader.path} is damaged: {store_id} has more chunks than embeddings.")
    archive.recount_lexical_tokens(conn, tenant_id, store_id)
    return total


def _settled(row: dict[str, Any]) -> dict[str, Any]:
    """A file that was being ingested when the archive was made has no job here to finish it: it is failed."""
    if row["status"] != "in_progress":
        return row
    return {**row, "status": "failed", "last_error_code": "server_error", "last_error_message": _IN_PROGRESS}


def _cited_ids(row: dict[str, Any]) -> Iterator[int]:
    for key in ("context_used", "unused_context"):
        for passage in row.get(key) or []:
            match = _CITED.fullmatch(str(passage.get("chunk_id", ""))) if isinstance(passage, dict) else None
            if match:
                yield int(match[1])


def _recite(row: dict[str, Any], renamed: dict[int, int]) -> dict[str, Any]:
    """The row with its passages citing the restored chunks' new ids."""
    for key in ("context_used", "unused_context"):
        row[key] = [_renamed(passage, renamed) for passage in row.get(key) or []]
    return row


def _renamed(passage: Any, renamed: dict[int, int]) -> Any:
    match = _CITED.fullmatch(str(passage.get("chunk_id", ""))) if isinstance(passage, dict) else None
    if match and int(match[1]) in renamed:
        return {**passage, "chunk_id": f"chunk_{renamed[int(match[1])]}"}
    return passage
