"""The archive format: a zip file of JSON-lines tables, file bytes and float16 embeddings, with a manifest.

Layout (format version 2):

    manifest.json                  format, version, ragstore version, created_at, scope, embedding models,
                                   each store's embedding space, counts per kind, sha256 and size of every other member
    files.jsonl                    file metadata: id, filename, purpose, bytes, sha256, created_at, expires_at
    files/<file id>                a file's original bytes
    vector_stores.jsonl            every column of the stores (metadata, expiry, model, text-search language, ...)
    file_batches.jsonl
    vector_store_files.jsonl       attachments: status, chunking, attributes, last error, counters
    imported_files.jsonl           where the importers' attachments came from (source key, fingerprint)
    chunks/<store id>.jsonl        a store's chunks by (file_id, chunk_index): text, page, token_count, attributes,
                                   doc_metadata, content_hash, lexical_length; id is the chunk's id at the source
    embeddings/<store id>.npy      their embeddings, one row per line of the chunks member: a NumPy .npy array of
                                   float16 little-endian, shape (chunks, dimension), exactly the stored halfvec values
                                   of the store's active embedding space (a re-embedded store: its new model's)
    conversations.jsonl, messages.jsonl, feedback.jsonl, training_examples.jsonl, datasets.jsonl,
    dataset_examples.jsonl         a tenant archive only

Every row leaves out tenant_id: a restore writes it for its target tenant. Timestamps are ISO 8601 with offset.
Members are deflated but the embeddings (float16 barely compresses: 8 %); the manifest is covered by the zip's own
CRC-32. Not archived: API keys, jobs, chunks' tsvectors (computed again from the text), embedding spaces other than
the active one.

A store's space in the manifest (vector_stores.<id>.space) is null for chunks.embedding (the server's 384-d model),
else the space of its own its vectors come from: provider_id (an endpoint's name, 'local', or null for an endpoint
given by URL alone), model, dimension, base_url and api_key_env (the variable's name; never a key). Version 1 (no
space) is read as null spaces.
"""

from __future__ import annotations

import importlib.metadata
import re
from datetime import UTC, datetime
from typing import Any

from ragstore.errors import Conflict, InvalidRequest
from ragstore.models import EmbeddingSpace

FORMAT = "ragstore-archive"
VERSION = 2
MANIFEST = "manifest.json"
EMBEDDING_DTYPE = "<f2"

STORE_KINDS = ("files", "vector_stores", "file_batches", "vector_store_files", "imported_files")
CHAT_KINDS = ("conversations", "messages", "feedback", "training_examples", "datasets", "dataset_examples")
# Every kind counted in a manifest, in the order a restore writes them.
KINDS = (*STORE_KINDS, "chunks", *CHAT_KINDS)

_MEMBER = re.compile(r"(\w+\.jsonl|files/[\w.-]+|chunks/[\w.-]+\.jsonl|embeddings/[\w.-]+\.npy)")


class ArchiveError(InvalidRequest):
    """The file is not a ragstore archive this version can read."""

    code = "invalid_archive"


class ArchiveDamaged(ArchiveError):
    """The archive is damaged: a member does not match its checksum."""

    code = "damaged_archive"


class ArchiveConflict(Conflict):
    """Objects of the archive exist already in the target; nothing was restored."""


def table_member(kind: str) -> str:
    return f"{kind}.jsonl"


def file_member(file_id: str) -> str:
    return f"files/{file_id}"


def chunks_member(store_id: str) -> str:
    return f"chunks/{store_id}.jsonl"


def embeddings_member(store_id: str) -> str:
    return f"embeddings/{store_id}.npy"


def ragstore_version() -> str:
    try:
        return importlib.metadata.version("ragstore")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def space_entry(space: EmbeddingSpace | None) -> dict[str, Any] | None:
    """A store's space as the manifest records it (None: chunks.embedding, where its vectors come from then)."""
    if space is None or space.in_chunks:
        return None
    return {
        "provider_id": space.provider_id,
        "model": space.model,
        "dimension": space.dimension,
        "base_url": space.base_url,
        "api_key_env": space.api_key_env,
    }


def build_manifest(
    scope: dict[str, Any],
    stores: list[dict[str, Any]],
    spaces: dict[str, dict[str, Any] | None],
    store_chunks: dict[str, int],
    counts: dict[str, int],
    members: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The manifest of an archive whose members are written (members: name -> {sha256, bytes})."""
    models = sorted({(s["embedding_model"], s["embedding_dim"]) for s in stores})
    return {
        "format": FORMAT,
        "format_version": VERSION,
        "ragstore_version": ragstore_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "scope": scope,
        "embedding": {
            "models": [{"model": model, "dimension": dim} for model, dim in models],
            "storage": "float16 little-endian, one .npy per vector store",
        },
        "vector_stores": {
            s["id"]: {
                "name": s["name"],
                "embedding_model": s["embedding_model"],
                "embedding_dim": s["embedding_dim"],
                "space": spaces[s["id"]],
                "chunks": store_chunks[s["id"]],
            }
            for s in stores
        },
        "counts": {kind: counts[kind] for kind in KINDS if kind in counts},
        "members": members,
    }


def check_manifest(manifest: Any, names: set[str], where: str) -> None:
    """Refuse a foreign, newer or inconsistent manifest, with the reason; names: the archive's member names."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{where} is not a ragstore archive (its manifest.json is not of format '{FORMAT}').")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ArchiveError(
            f"{where} is a ragstore archive of format version {version}, made by ragstore "
            f"{manifest.get('ragstore_version', '?')}; this ragstore reads version {VERSION}: upgrade ragstore."
        )
    for key in ("scope", "vector_stores", "counts", "members"):
        if not isinstance(manifest.get(key), dict):
            raise ArchiveError(f"{where}: its manifest has no valid '{key}'.")
    tenant = manifest["scope"].get("tenant")
    if not (isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and isinstance(tenant.get("name"), str)):
        raise ArchiveError(f"{where}: its manifest does not name the tenant it was made from.")
    listed = set(manifest["members"])
    bad = sorted(name for name in listed if not _MEMBER.fullmatch(name))
    if bad:
        raise ArchiveError(f"{where}: its manifest lists members ragstore does not make: {', '.join(bad[:5])}.")
    if listed != names - {MANIFEST}:
        missing, extra = sorted(listed - names), sorted(names - listed - {MANIFEST})
        raise ArchiveDamaged(
            f"{where} is damaged: "
            + "; ".join(
                part
                for part in (
                    f"members missing: {', '.join(missing[:5])}" if missing else "",
                    f"members not in the manifest: {', '.join(extra[:5])}" if extra else "",
                )
                if part
            )
            + "."
        )
