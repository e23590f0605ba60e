"""Vector stores, with their file counts and usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.models import EmbeddingSpace, FileCounts, PageRequest, VectorStore
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

_COLUMNS = sql.SQL(QUERIES["vector_store_columns"])
_SOURCE = sql.SQL(QUERIES["vector_store_source"])
_COUNTS = ("in_progress", "completed", "failed", "cancelled", "total")
_SPACE_FIELDS = [field.name for field in fields(EmbeddingSpace)]


def _store(row: dict[str, Any]) -> VectorStore:
    counts = FileCounts(**{key: row.pop(key) for key in _COUNTS})
    return VectorStore(**row, file_counts=counts)


def insert_vector_store(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    name: str,
    model: str,
    dim: int,
    *,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    expires_after: dict[str, Any] | None = None,
    language: str = "english",
) -> VectorStore:
    conn.execute(
        QUERIES["insert_vector_store_object"],
        {
            "tenant_id": tenant_id,
            "id": store_id,
            "name": name,
            "description": description,
            "metadata": _json(metadata),
            "embedding_model": model,
            "embedding_dim": dim,
            "expires_after": _json(expires_after),
            "expires_days": (expires_after or {}).get("days"),
            "language": language,
        },
    )
    store = get_vector_store(conn, tenant_id, store_id)
    assert store is not None
    return store


def get_vector_store(conn: Connection, tenant_id: str, store_id: str) -> VectorStore | None:
    query = sql.SQL(QUERIES["get_vector_store_object"]).format(columns=_COLUMNS, source=_SOURCE)
    row = conn.execute(query, {"tenant_id": tenant_id, "id": store_id}).fetchone()
    return _store(row) if row else None


def list_vector_stores(
    conn: Connection,
    tenant_id: str,
    page: PageRequest,
    cursor_at: datetime | None,
    order_by: str = "created_at",
) -> tuple[list[VectorStore], bool]:
    """A page of stores by id (creation), or by last activity when cursor_at is the cursor store's last_active_at."""
    name = "list_vector_store_objects_by_activity" if order_by == "last_active_at" else "list_vector_store_objects"
    rows, has_more = fetch_page(conn, name, {"tenant_id": tenant_id}, page, cursor_at, columns=_COLUMNS, source=_SOURCE)
    return [_store(row) for row in rows], has_more


def vector_stores_by_name(conn: Connection, tenant_id: str, name: str) -> list[VectorStore]:
    rows = conn.execute(QUERIES["vector_stores_by_name"], {"tenant_id": tenant_id, "name": name}).fetchall()
    return [VectorStore(**row) for row in rows]


def update_vector_store(conn: Connection, tenant_id: str, store_id: str, changes: dict[str, Any]) -> bool:
    """Set the fields present in changes (an explicit None clears); False if there is no such store."""
    expires_after = changes.get("expires_after")
    row = conn.execute(
        QUERIES["update_vector_store"],
        {
            "tenant_id": tenant_id,
            "id": store_id,
            "set_name": "name" in changes,
            "name": changes.get("name"),
            "set_metadata": "metadata" in changes,
            "metadata": _json(changes.get("metadata")),
            "set_expires_after": "expires_after" in changes,
            "expires_after": _json(expires_after),
            "expires_days": (expires_after or {}).get("days"),
        },
    ).fetchone()
    return row is not None


def delete_vector_store(conn: Connection, tenant_id: str, store_id: str) -> bool:
    return conn.execute(QUERIES["delete_vector_store"], {"tenant_id": tenant_id, "id": store_id}).fetchone() is not None


@dataclass(frozen=True)
class SearchedStore:
    """A store as a search sees it before its query (see search_stores)."""

    store: VectorStore
    space: EmbeddingSpace | None  # the active embedding space; None: chunks.embedding
    chunks: int  # in its completed files: what the search would scan
    stale: bool  # last_active_at is older than the search's touch_after
    partition_chunks: int  # rows of the tenant's chunks partition (an estimate; 0 if never analysed)


def search_stores(
    conn: Connection, tenant_id: str, store_ids: Sequence[str], touch_after: float
) -> dict[str, SearchedStore]:
    """The existing ones of these stores by id, with what a search needs of them, in one statement."""
    query = sql.SQL(QUERIES["search_stores"]).format(columns=_COLUMNS, source=_SOURCE)
    rows = conn.execute(query, {"tenant_id": tenant_id, "ids": list(store_ids), "touch_after": touch_after})
    found = {}
    for row in rows.fetchall():
        space = {name: row.pop(f"space_{name}") for name in _SPACE_FIELDS}
        context = {name: row.pop(name) for name in ("searchable_chunks", "stale", "partition_chunks")}
        found[row["id"]] = SearchedStore(
            _store(row),
            EmbeddingSpace(**space) if space["id"] is not None else None,
            context["searchable_chunks"],
            context["stale"],
            context["partition_chunks"] or 0,
        )
    return found


def touch_vector_stores(conn: Connection, tenant_id: str, store_ids: list[str]) -> None:
    conn.execute(QUERIES["commit_without_waiting"])
    conn.execute(QUERIES["touch_vector_stores"], {"tenant_id": tenant_id, "ids": store_ids})


def usage_totals(conn: Connection, tenant_id: str) -> dict[str, int]:
    totals = dict(one(conn.execute(QUERIES["usage_totals"], {"tenant_id": tenant_id})))
    rows = conn.execute(QUERIES["vector_store_file_status_counts"], {"tenant_id": tenant_id}).fetchall()
    totals["files_by_status"] = {row["status"]: row["n"] for row in rows}
    return totals


def usage_by_day(conn: Connection, tenant_id: str, days: int) -> list[dict[str, Any]]:
    """Files and storage per UTC day of the last `days` days: added that day, and the totals at its end."""
    return conn.execute(QUERIES["usage_by_day"], {"tenant_id": tenant_id, "days": days}).fetchall()


def _json(value: Any) -> Jsonb | None:
    return Jsonb(value) if value is not None else None


def text_search_language_exists(conn: Connection, language: str) -> bool:
    return one(conn.execute(QUERIES["text_search_language_exists"], {"language": language}))["found"]
