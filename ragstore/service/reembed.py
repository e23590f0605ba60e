"""Re-embedding a store with another model, online: build beside, compare, switch atomically, roll back, drop.

    start    record the new space (and the store's first one), probe its embedder
    build    embed every chunk that has no vector in the space yet, batch by batch (resumable), then its index
    report   top-k overlap between the active and the new space on sampled queries; nDCG with judgments
    switch   one transaction: the new space active, the old one kept as the way back
    rollback the previous space active again (until it is dropped)
    drop     delete every space but the active one (the first space's chunks.embedding is emptied)

Searches read the store's active space throughout; ingestion writes every live space (service/spaces.py), so a
space being built misses only chunks written before it was recorded, which its build fills.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ragstore import ids
from ragstore.errors import Conflict, InvalidRequest, VectorStoreNotFound
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.embed import Embedder, embed_chunks
from ragstore.models import EmbeddingSpace, VectorStore
from ragstore.service import relevance, spaces
from ragstore.service.evaluation import Dataset
from ragstore.store import chunks, vector_stores
from ragstore.store import spaces as space_store
from ragstore.store.db import Connection, Database

BATCH = 128
QUERY_WORDS = 32  # a sampled chunk's first words make a query


@dataclass(frozen=True)
class NewModel:
    """The model a store is re-embedded with, and the OpenAI-compatible endpoint that serves it (none needed for
    this server's own model)."""

    model: str
    dimension: int
    base_url: str | None = None
    api_key_env: str | None = None


def start(db: Database, tenant_id: str, store_id: str, target: NewModel, default: Embedder) -> EmbeddingSpace:
    """Record a space for the target model (state building); an unfinished one for the same model is resumed."""
    probe = EmbeddingSpace(
        "",
        store_id,
        target.model,
        target.dimension,
        target.base_url,
        target.api_key_env,
        "vectors",
        "building",
        datetime.now(UTC),
    )
    spaces.embedder_for(default, target.model, target.dimension, probe).embed(["probe"])  # fails early and clearly
    with db.tenant(tenant_id) as conn:
        store = _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        for space in found:
            if space.state == "building":
                if (space.model, space.dimension) == (target.model, target.dimension):
                    return space
                raise Conflict(f"Store {store_id} is being re-embedded with {space.model}: finish or drop it first.")
            if (space.model, space.dimension) == (target.model, target.dimension) and space.state != "dropped":
                raise InvalidRequest(f"Store {store_id} has {target.model} embeddings already ({space.state}).")
        if (store.embedding_model, store.embedding_dim) == (target.model, target.dimension):
            raise InvalidRequest(f"Store {store_id} is embedded with {target.model} already.")
        if not found:
            first = replace(
                probe,
                id=ids.new(ids.SPACE),
                model=store.embedding_model,
                dimension=store.embedding_dim,
                base_url=None,
                api_key_env=None,
                location="chunks",
                state="active",
                provider_id=store.provider_id,
            )
            space_store.insert_space(conn, tenant_id, first)
            space_store.set_active(conn, tenant_id, store_id, first)
        space = replace(probe, id=ids.new(ids.SPACE), provider_id=None if target.base_url else "local")
        space_store.insert_space(conn, tenant_id, space)
    return space


def build(
    db: Database,
    tenant_id: str,
    space: EmbeddingSpace,
    embedder: Embedder,
    chunker: Chunker,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Embed the store's chunks that lack a vector in the space, then build its index; the number embedded."""
    done = 0
    while True:
        with db.tenant(tenant_id) as conn:
            rows = space_store.chunks_missing_vectors(conn, tenant_id, space.vector_store_id, space.id, BATCH)
        if not rows:
            break
        vectors = embed_chunks(embedder, chunker, [row["text"] for row in rows])
        try:
            with db.tenant(tenant_id) as conn:
                space_store.insert_vectors(conn, tenant_id, space.id, [row["id"] for row in rows], vectors)
        except Conflict:  # a chunk was deleted meanwhile: the next round reads the batch again
            continue
        done += len(rows)
        progress(len(rows))
    with db.connection() as conn:  # autocommit, as the owner: the index is built without blocking writes
        space_store.create_index(conn, space)
    with db.tenant(tenant_id) as conn:
        current = space_store.get_space(conn, tenant_id, space.id)
        if current is not None and current.state == "building":
            space_store.set_state(conn, tenant_id, space.id, "ready")
    return done


def building(db: Database, tenant_id: str, store_id: str) -> EmbeddingSpace | None:
    """The store's space being built, if any."""
    with db.tenant(tenant_id) as conn:
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
    return next((s for s in found if s.state == "building"), None)


def status(db: Database, tenant_id: str, store_id: str) -> list[dict[str, Any]]:
    """The store's spaces, each with how many chunks still lack a vector in it."""
    with db.tenant(tenant_id) as conn:
        _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        return [
            {
                "id": s.id,
                "model": s.model,
                "dimension": s.dimension,
                "location": s.location,
                "state": s.state,
                "missing": 0 if s.in_chunks else space_store.count_missing_vectors(conn, tenant_id, store_id, s.id),
            }
            for s in found
        ]


def switch(db: Database, tenant_id: str, store_id: str) -> EmbeddingSpace:
    """Make the newest ready space active (complete, or refused); the active one becomes the way back."""
    with db.tenant(tenant_id) as conn:
        _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        ready = [s for s in found if s.state == "ready"]
        if not ready:
            building = [s for s in found if s.state == "building"]
            detail = f" ({building[0].model} is still being built)" if building else ""
            raise InvalidRequest(f"Store {store_id} has no re-embedding ready to switch to{detail}.")
        target = ready[-1]
        if not target.in_chunks:
            missing = space_store.count_missing_vectors(conn, tenant_id, store_id, target.id)
            if missing:
                raise InvalidRequest(
                    f"{missing} chunks of store {store_id} have no {target.model} vector yet: build again first."
                )
        _activate(conn, tenant_id, store_id, found, target)
    return replace(target, state="active")


def rollback(db: Database, tenant_id: str, store_id: str) -> EmbeddingSpace:
    """Make the previous space active again; the one switched to stays ready."""
    with db.tenant(tenant_id) as conn:
        _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        previous = [s for s in found if s.state == "previous"]
        if not previous:
            raise InvalidRequest(
                f"Store {store_id} has nothing to roll back to: it was never switched, or the old embeddings were "
                "dropped."
            )
        _activate(conn, tenant_id, store_id, found, previous[0], old_state="ready")
    return replace(previous[0], state="active")


def drop(db: Database, tenant_id: str, store_id: str) -> list[EmbeddingSpace]:
    """Delete every space but the active one and one being built: no way back after this. The dropped ones."""
    with db.tenant(tenant_id) as conn:
        _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        dropped = [s for s in found if s.state in ("ready", "previous")]
        for space in dropped:
            if space.in_chunks:
                space_store.clear_primary(conn, tenant_id, store_id)
                space_store.set_state(conn, tenant_id, space.id, "dropped")
            else:
                space_store.delete_space(conn, tenant_id, space.id)
    with db.connection() as conn:
        for space in dropped:
            if not space.in_chunks:
                space_store.drop_index(conn, space.id)
    return dropped


def report(
    db: Database,
    tenant_id: str,
    store_id: str,
    default: Embedder,
    *,
    sample: int = 50,
    k: int = 10,
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    """Compare the active space with the newest other live one: mean top-k overlap on queries made of sampled
    chunks' first words and, with a BEIR dataset of the store's documents, nDCG@10 of each."""
    with db.tenant(tenant_id) as conn:
        store = _locked_store(conn, tenant_id, store_id)
        found = space_store.spaces_of_store(conn, tenant_id, store_id)
        active = next((s for s in found if s.state == "active"), None)
        others = [s for s in found if s.state in ("building", "ready", "previous")]
        if active is None or not others:
            raise InvalidRequest(f"Store {store_id} has no second embedding space to compare with.")
        size = chunks.store_chunk_count(conn, tenant_id, [store_id])
        texts = space_store.sample_texts(conn, tenant_id, store_id, max(1, size // sample), sample)
    candidate = others[-1]
    sides = [
        (space, spaces.embedder_for(default, space.model, space.dimension, space)) for space in (active, candidate)
    ]
    queries = [" ".join(text.split()[:QUERY_WORDS]) for text in texts]
    rankings = [_rankings(db, tenant_id, store, queries, space, embedder, k) for space, embedder in sides]
    overlaps = [len(set(a) & set(b)) / k for a, b in zip(*rankings, strict=True)]
    result: dict[str, Any] = {
        "vector_store_id": store_id,
        "active": {"model": active.model, "dimension": active.dimension, "state": active.state},
        "candidate": {"model": candidate.model, "dimension": candidate.dimension, "state": candidate.state},
        "queries": len(queries),
        f"overlap@{k}": statistics.mean(overlaps) if overlaps else None,
        f"min_overlap@{k}": min(overlaps) if overlaps else None,
    }
    if dataset is not None:
        result["ndcg@10"] = {
            name: _ndcg(db, tenant_id, store, dataset, space, embedder)
            for name, (space, embedder) in zip(("active", "candidate"), sides, strict=True)
        }
    return result


def _rankings(
    db: Database,
    tenant_id: str,
    store: VectorStore,
    queries: list[str],
    space: EmbeddingSpace,
    embedder: Embedder,
    k: int,
) -> list[list[int]]:
    if not queries:
        return []
    vectors = embedder.embed(queries)
    with db.tenant(tenant_id) as conn:
        return [
            [
                hit.chunk_id
                for hit in chunks.search_chunks(conn, tenant_id, [store.id], v, k, 0.0, exact=True, space=space)
            ]
            for v in vectors
        ]


def _ndcg(
    db: Database, tenant_id: str, store: VectorStore, dataset: Dataset, space: EmbeddingSpace, embedder: Embedder
) -> float:
    ids_ = list(dataset.queries)
    vectors = embedder.embed([dataset.queries[q] for q in ids_])
    scores = []
    with db.tenant(tenant_id) as conn:
        for qid, vector in zip(ids_, vectors, strict=True):
            hits = chunks.search_chunks(conn, tenant_id, [store.id], vector, 10, 0.0, exact=True, space=space)
            ranking = list(dict.fromkeys(str(hit.attributes.get("_id")) for hit in hits))
            scores.append(relevance.ndcg(ranking, dataset.judgments[qid], 10))
    return statistics.mean(scores) if scores else 0.0


def _activate(
    conn: Connection,
    tenant_id: str,
    store_id: str,
    found: list[EmbeddingSpace],
    target: EmbeddingSpace,
    old_state: str = "previous",
) -> None:
    for space in found:
        if space.state == "active":
            space_store.set_state(conn, tenant_id, space.id, old_state)
        elif space.state == "previous" and old_state == "previous":
            space_store.set_state(conn, tenant_id, space.id, "ready")
    space_store.set_state(conn, tenant_id, target.id, "active")
    space_store.set_active(conn, tenant_id, store_id, target)


def _locked_store(conn: Connection, tenant_id: str, store_id: str) -> VectorStore:
    if not space_store.lock_store(conn, tenant_id, store_id):
        raise VectorStoreNotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")
    store = vector_stores.get_vector_store(conn, tenant_id, store_id)
    assert store is not None
    return store
