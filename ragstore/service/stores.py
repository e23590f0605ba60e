"""Vector stores: created with the server's embedding model, found by id or by name, listed, changed, deleted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ragstore import ids
from ragstore.errors import AmbiguousName, ConfigurationError, InvalidRequest, VectorStoreNotFound
from ragstore.ingest.chunk import AUTO, ChunkingStrategy
from ragstore.ingest.embed import Embedder
from ragstore.models import EmbeddingSpace, Page, PageRequest, VectorStore
from ragstore.service import Connection, Database, ingestion, paging
from ragstore.store import spaces as space_store
from ragstore.store import vector_store_files, vector_stores
from ragstore.store.replicas import fall_back
from ragstore.store.vector_stores import SearchedStore


def create(
    db: Database,
    tenant_id: str,
    embedder: Embedder,
    name: str = "",
    *,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    expires_after: dict[str, Any] | None = None,
    file_ids: Sequence[str] = (),
    strategy: ChunkingStrategy = AUTO,
    language: str = "english",
    space: EmbeddingSpace | None = None,
    conn: Connection | None = None,
) -> VectorStore:
    """A new store for this server's model, or in the space given (spaces.choose's template; then its HNSW index
    is built after the commit, unless the caller's transaction is used); file_ids are attached (and ingested) at
    once, in the same transaction: a bad id leaves no store behind."""
    own = conn is None
    with db.transaction(tenant_id, conn) as conn:
        store = vector_stores.insert_vector_store(
            conn,
            tenant_id,
            ids.new(ids.VECTOR_STORE),
            name,
            space.model if space else embedder.model,
            space.dimension if space else embedder.dimension,
            description=description,
            metadata=metadata,
            expires_after=expires_after,
            language=language,
        )
        if space is not None:
            space = replace(space, id=ids.new(ids.SPACE), vector_store_id=store.id)
            space_store.insert_space(conn, tenant_id, space)
            space_store.set_active(conn, tenant_id, store.id, space)
        if file_ids:
            specs = [ingestion.FileSpec(file_id, strategy) for file_id in file_ids]
            ingestion.attach(db, tenant_id, store, specs, batch=False, conn=conn)
        store = get(db, tenant_id, store.id, conn=conn) if space or file_ids else store
    if space is not None and own:
        with db.connection() as owner:  # autocommit, as the owner: CREATE INDEX CONCURRENTLY
            space_store.create_index(owner, space)
    return store


@fall_back
def get(db: Database, tenant_id: str, store_id: str, *, conn: Connection | None = None) -> VectorStore:
    with db.reader(tenant_id, conn) as conn:
        store = vector_stores.get_vector_store(conn, tenant_id, store_id)
    if store is None:
        raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")
    return store


def for_search(conn: Connection, tenant_id: str, store_ids: Sequence[str], touch_after: float) -> list[SearchedStore]:
    """The stores, in the order asked, with what a search needs of them, in one statement inside the caller's tenant
    transaction; the first missing one is a VectorStoreNotFound, as get's."""
    found = vector_stores.search_stores(conn, tenant_id, store_ids, touch_after)
    for store_id in store_ids:
        if store_id not in found:
            raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")
    return [found[store_id] for store_id in store_ids]


@fall_back
def list_stores(db: Database, tenant_id: str, page: PageRequest, order_by: str = "created_at") -> Page[VectorStore]:
    """A page of stores by creation (their ids), or by last activity (last_active_at, then id)."""
    paging.check(page)
    with db.reader(tenant_id) as conn:
        cursor_at = None
        if order_by == "last_active_at" and page.cursor:
            cursor = vector_stores.get_vector_store(conn, tenant_id, page.cursor)
            if cursor is None:
                param = "after" if page.after else "before"
                raise InvalidRequest(f"No vector store with id '{page.cursor}' to page from.", param=param)
            cursor_at = cursor.last_active_at
        items, has_more = vector_stores.list_vector_stores(conn, tenant_id, page, cursor_at, order_by)
    return Page(items, has_more)


def update(
    db: Database, tenant_id: str, store_id: str, changes: dict[str, Any], *, conn: Connection | None = None
) -> VectorStore:
    """Change the fields given (name, metadata, expires_after); an explicit None clears one."""
    with db.transaction(tenant_id, conn) as conn:
        if not vector_stores.update_vector_store(conn, tenant_id, store_id, changes):
            raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")
        return get(db, tenant_id, store_id, conn=conn)


def delete(db: Database, tenant_id: str, store_id: str) -> None:
    """Delete a store with its chunks; its files stay."""
    with db.tenant(tenant_id) as conn:
        if not vector_stores.delete_vector_store(conn, tenant_id, store_id):
            raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")


def touch(db: Database, tenant_id: str, store_id: str, *, conn: Connection | None = None) -> None:
    """The store was used: its last_active_at, and so its expiry, move on."""
    with db.transaction(tenant_id, conn) as conn:
        vector_stores.touch_vector_stores(conn, tenant_id, [store_id])


def usage(db: Database, tenant_id: str) -> dict[str, Any]:
    """Totals of stores, files and batches, files by status, and bytes used."""
    with db.tenant(tenant_id) as conn:
        totals: dict[str, Any] = vector_stores.usage_totals(conn, tenant_id)
        totals["file_batches_by_status"] = vector_store_files.file_batch_status_counts(conn, tenant_id)
        return totals


def usage_by_day(db: Database, tenant_id: str, days: int = 30) -> list[dict[str, Any]]:
    """Per UTC day of the last `days` days: files and bytes uploaded, and the totals of files, bytes and store
    usage at the day's end, from the creation times of what is stored now (deleted files leave no history)."""
    if not 1 <= days <= 366:
        raise InvalidRequest(f"days must be between 1 and 366, got {days}.", param="days")
    with db.tenant(tenant_id) as conn:
        return vector_stores.usage_by_day(conn, tenant_id, days)


def find(db: Database, tenant_id: str, name_or_id: str) -> VectorStore | None:
    """The store with this id, else the one store with this name; None if there is none."""
    with db.tenant(tenant_id) as conn:
        if name_or_id.startswith(ids.VECTOR_STORE):
            store = vector_stores.get_vector_store(conn, tenant_id, name_or_id)
            if store is not None:
                return store
        found = vector_stores.vector_stores_by_name(conn, tenant_id, name_or_id)
    if len(found) > 1:
        raise AmbiguousName(
            f"{len(found)} vector stores are named '{name_or_id}': use one of their ids "
            f"({', '.join(s.id for s in found)})."
        )
    return found[0] if found else None


def resolve(db: Database, tenant_id: str, name_or_id: str) -> VectorStore:
    store = find(db, tenant_id, name_or_id)
    if store is None:
        raise VectorStoreNotFound(f"No vector store named or with id '{name_or_id}'.", param="store")
    return store


def get_or_create(
    db: Database, tenant_id: str, name: str, embedder: Embedder, language: str = "english"
) -> VectorStore:
    return find(db, tenant_id, name) or create(db, tenant_id, embedder, name, language=language)


def language_exists(db: Database, language: str) -> bool:
    """Whether this PostgreSQL has the text-search configuration."""
    with db.connection() as conn:
        return vector_stores.text_search_language_exists(conn, language)


def check_language(db: Database, language: str) -> None:
    """Refuse a text-search language this PostgreSQL does not have."""
    if not language_exists(db, language):
        raise ConfigurationError(
            f"RAGSTORE_TEXT_SEARCH_LANGUAGE={language!r} is not a text-search configuration of this PostgreSQL "
            "(SELECT cfgname FROM pg_ts_config lists them: english, french, german, simple, ...)."
        )


def check_searchable(store: VectorStore, embedder: Embedder) -> None:
    """Refuse an expired store, and refuse to mix models: a store is searched only with the model it was built with."""
    if store.expired:
        raise InvalidRequest(f"Vector store {store.id} has expired.", param="vector_store_id")
    if (store.embedding_model, store.embedding_dim) != (embedder.model, embedder.dimension):
        raise InvalidRequest(
            f"Vector store {store.id} holds {store.embedding_model} embeddings ({store.embedding_dim}-d), but this "
            f"server embeds with {embedder.model} ({embedder.dimension}-d).",
            param="vector_store_ids",
        )
