"""Vector stores: created with the server's embedding model, found by id or by name."""

from __future__ import annotations

from ragstore import ids
from ragstore.errors import AmbiguousName, InvalidRequest, VectorStoreNotFound
from ragstore.ingest.embed import Embedder
from ragstore.models import VectorStore
from ragstore.store import vector_stores
from ragstore.store.db import Database


def create(db: Database, tenant_id: str, name: str, embedder: Embedder) -> VectorStore:
    with db.connection() as conn:
        return vector_stores.insert_vector_store(
            conn, tenant_id, ids.new(ids.VECTOR_STORE), name, embedder.model, embedder.dimension
        )


def get(db: Database, tenant_id: str, store_id: str) -> VectorStore:
    with db.connection() as conn:
        store = vector_stores.get_vector_store(conn, tenant_id, store_id)
    if store is None:
        raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")
    return store


def find(db: Database, tenant_id: str, name_or_id: str) -> VectorStore | None:
    """The store with this id, else the one store with this name; None if there is none."""
    if name_or_id.startswith(ids.VECTOR_STORE):
        with db.connection() as conn:
            store = vector_stores.get_vector_store(conn, tenant_id, name_or_id)
        if store is not None:
            return store
    with db.connection() as conn:
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


def get_or_create(db: Database, tenant_id: str, name: str, embedder: Embedder) -> VectorStore:
    return find(db, tenant_id, name) or create(db, tenant_id, name, embedder)


def check_model(store: VectorStore, embedder: Embedder) -> None:
    """Refuse to mix models: a store is searched and filled only with the model it was built with."""
    if (store.embedding_model, store.embedding_dim) != (embedder.model, embedder.dimension):
        raise InvalidRequest(
            f"Vector store {store.id} holds {store.embedding_model} embeddings ({store.embedding_dim}-d), but this "
            f"server embeds with {embedder.model} ({embedder.dimension}-d).",
            param="vector_store_ids",
        )
