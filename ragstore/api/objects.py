"""Domain records rendered as OpenAI's objects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from ragstore.api import schemas, search_schemas
from ragstore.models import FileBatch, FileCounts, FileRecord, SearchHit, VectorStore, VectorStoreFile

POLL_AFTER_MS = "500"


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def file_object(record: FileRecord) -> schemas.OpenAIFile:
    return schemas.OpenAIFile(
        id=record.id,
        object="file",
        bytes=record.bytes,
        created_at=unix(record.created_at),
        expires_at=unix(record.expires_at),
        filename=record.filename,
        purpose=record.purpose,
        status="processed",
    )


def counts(file_counts: FileCounts) -> schemas.VectorStoreFileCounts:
    return schemas.VectorStoreFileCounts(**vars(file_counts))


def store_object(store: VectorStore) -> schemas.VectorStoreObject:
    return schemas.VectorStoreObject(
        id=store.id,
        object="vector_store",
        created_at=unix(store.created_at),
        name=store.name,
        usage_bytes=store.usage_bytes,
        file_counts=counts(store.file_counts),
        status=store.status,
        expires_after=store.expires_after,
        expires_at=unix(store.expires_at),
        last_active_at=unix(store.last_active_at),
        metadata=store.metadata,
        embedding_model=store.embedding_model,
        embedding_dimension=store.embedding_dim,
        provider_id=store.provider_id,
    )


def store_file_object(attached: VectorStoreFile) -> schemas.VectorStoreFileObject:
    error = None
    if attached.last_error_code:
        error = schemas.VectorStoreFileLastError(code=attached.last_error_code, message=attached.last_error_message)
    return schemas.VectorStoreFileObject(
        id=attached.file_id,
        object="vector_store.file",
        usage_bytes=attached.usage_bytes,
        created_at=unix(attached.created_at),
        vector_store_id=attached.vector_store_id,
        status=attached.status,
        last_error=error,
        attributes=attached.attributes,
        chunking_strategy=schemas.StaticChunkingStrategyResponseParam(
            type="static",
            static=schemas.StaticChunkingStrategy(
                max_chunk_size_tokens=attached.chunk_size_tokens, chunk_overlap_tokens=attached.chunk_overlap_tokens
            ),
        ),
    )


def batch_object(batch: FileBatch) -> schemas.VectorStoreFileBatchObject:
    return schemas.VectorStoreFileBatchObject(
        id=batch.id,
        object="vector_store.files_batch",
        created_at=unix(batch.created_at),
        vector_store_id=batch.vector_store_id,
        status=batch.status,
        file_counts=counts(batch.file_counts),
    )


def search_item(hit: SearchHit) -> search_schemas.VectorStoreSearchResultItem:
    return search_schemas.VectorStoreSearchResultItem(
        file_id=hit.file_id,
        filename=hit.filename,
        score=min(1.0, max(0.0, hit.score)),
        attributes=wire_attributes(hit.attributes),
        content=[search_schemas.VectorStoreSearchResultContentObject(type="text", text=hit.text)],
    )


def search_page_json(queries: Sequence[str], hits: Sequence[SearchHit]) -> bytes:
    """A search's VectorStoreSearchResultsPage as JSON, byte for byte as pydantic writes it (tests/unit check it),
    built directly: on the hot path, the page's 31 models cost 0.16 ms, orjson over plain dicts 0.02 ms."""
    data = [
        {
            "file_id": hit.file_id,
            "filename": hit.filename,
            "score": min(1.0, max(0.0, float(hit.score))),
            "attributes": wire_attributes(hit.attributes),
            "content": [{"type": "text", "text": hit.text}],
        }
        for hit in hits
    ]
    page = {
        "object": "vector_store.search_results.page",
        "search_query": list(queries),
        "data": data,
        "has_more": False,
        "next_page": None,
    }
    try:
        return orjson.dumps(page)
    except orjson.JSONEncodeError:  # an integer attribute beyond 64 bits, which orjson refuses
        return json.dumps(page, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def wire_attributes(attributes: dict[str, Any] | None) -> dict[str, Any] | None:
    """At most what OpenAI's attributes allow (16 keys of 64 chars; strings of 512, numbers, booleans).

    A chunk's attributes are its file's plus its document's own metadata (a JSON document's fields), which can
    hold more.
    """
    if not attributes:
        return None
    kept: dict[str, Any] = {}
    for key, value in attributes.items():
        if len(kept) == 16:
            break
        if len(key) <= 64 and isinstance(value, bool | int | float | str):
            kept[key] = value[:512] if isinstance(value, str) else value
    return kept or None
