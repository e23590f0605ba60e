"""Which embeddings a store is searched and written with, and the embedder for each of its spaces.

A store created with the server's model (384-d) and never re-embedded has no space rows: it lives in
chunks.embedding. Once a re-embedding starts, its first space is recorded (location `chunks`) beside the new one
(location `vectors`). A store created with another model or dimension (`choose`) has one space from the start, in
chunk_vectors.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ragstore.config import LOCAL_PROVIDER, EmbeddingProvider, secret
from ragstore.errors import ConfigurationError, InvalidRequest
from ragstore.ingest.embed import Embedder, RemoteEmbedder, probe
from ragstore.models import EmbeddingSpace, VectorStore
from ragstore.store import spaces
from ragstore.store.db import Connection, Database

# chunks.embedding is halfvec(384) (migration 0001): a store of any other dimension lives in chunk_vectors.
CHUNKS_DIMENSION = 384
MAX_DIMENSION = 4000  # the most pgvector indexes as halfvec
# States whose vectors are kept up to date by ingestion: all but dropped.
LIVE = ("building", "ready", "active", "previous")
_remote: dict[tuple[str, str, int, str | None], Embedder] = {}
_remote_lock = threading.Lock()


@dataclass(frozen=True)
class LiveSpace:
    """A space new chunks are written in, with the embedder that fills it (space None: chunks.embedding of a store
    that has no space rows)."""

    space: EmbeddingSpace | None
    embedder: Embedder


def active_space(db: Database, tenant_id: str, stores: list[VectorStore]) -> EmbeddingSpace | None:
    """The space the stores are searched in (None: chunks.embedding); stores searched together must share it."""
    space_id = shared_space_id(stores)
    if space_id is None:
        return None
    with db.tenant(tenant_id) as conn:
        return spaces.get_space(conn, tenant_id, space_id)


def by_space(stores: Sequence[VectorStore]) -> list[list[str]]:
    """The stores' ids grouped by the space they are searched in, in the order asked (one group per space)."""
    groups: dict[str | None, list[str]] = {}
    for store in stores:
        groups.setdefault(store.active_space_id, []).append(store.id)
    return list(groups.values())


def shared_space_id(stores: Sequence[VectorStore]) -> str | None:
    """The id of the one space the stores are searched in (None: chunks.embedding); refuses stores that differ."""
    chosen = {store.active_space_id for store in stores}
    if len(chosen) > 1:
        raise InvalidRequest(
            "These vector stores keep their embeddings in different spaces (one was re-embedded): search them "
            "one at a time.",
            param="vector_store_ids",
        )
    return chosen.pop() if chosen else None


def embedder_for(default: Embedder, model: str, dimension: int, space: EmbeddingSpace | None = None) -> Embedder:
    """The server's own embedder when it is this model; else the space's OpenAI-compatible endpoint (one client
    per endpoint and model, shared by the process)."""
    if (model, dimension) == (default.model, default.dimension):
        return default
    if space is None or not space.base_url:
        raise ConfigurationError(
            f"No embedder for {model} ({dimension}-d) here: this server embeds with {default.model} "
            f"({default.dimension}-d)."
        )
    key = (space.base_url, model, dimension, space.api_key_env)
    with _remote_lock:
        if key not in _remote:
            api_key = secret(space.api_key_env) if space.api_key_env else None
            _remote[key] = RemoteEmbedder(space.base_url, model, api_key, dimension, batch_size=64)
        return _remote[key]


def query_embedder(default: Embedder, store: VectorStore, space: EmbeddingSpace | None) -> Embedder:
    """The embedder of the store's active space, for its queries (the server's own when the space names no
    endpoint: then stores.check_searchable refuses a model it does not embed with)."""
    if space is None or not space.base_url:
        return default
    return embedder_for(default, store.embedding_model, store.embedding_dim, space)


def live_spaces(conn: Connection, tenant_id: str, store: VectorStore, default: Embedder) -> list[LiveSpace]:
    """Every space a new chunk of the store must be embedded in: its first (unless dropped) first, then each
    other live one, so that a space being built, the active one and the way back all stay complete."""
    found = spaces.spaces_of_store(conn, tenant_id, store.id)
    if not found:
        return [LiveSpace(None, embedder_for(default, store.embedding_model, store.embedding_dim))]
    live = [space for space in found if space.state in LIVE]
    live.sort(key=lambda space: not space.in_chunks)
    return [LiveSpace(space, embedder_for(default, space.model, space.dimension, space)) for space in live]


def choose(
    default: Embedder,
    providers: dict[str, EmbeddingProvider],
    provider_id: str | None = None,
    model: str | None = None,
    dimension: int | None = None,
) -> EmbeddingSpace | None:
    """The space a new store is created in (a template: no ids yet), checked before anything is stored: None for
    chunks.embedding (the server's model, when it is 384-d). A remote model is probed with one embedding, which
    must come back with the dimension asked for (the model's own when none is)."""
    if provider_id is None:
        if model is None or model == default.model:
            provider_id = LOCAL_PROVIDER
        elif len(providers) == 1:
            provider_id = next(iter(providers))
        else:
            raise InvalidRequest(
                f"Say which endpoint serves {model}: provider_id, one of {_names(providers)}.", param="provider_id"
            )
    if provider_id == LOCAL_PROVIDER:
        return _local(default, model, dimension)
    provider = providers.get(provider_id)
    if provider is None:
        raise InvalidRequest(f"Unknown provider_id {provider_id!r}: one of {_names(providers)}.", param="provider_id")
    if not model:
        raise InvalidRequest(f"embedding_model is required with provider_id {provider_id!r}.", param="embedding_model")
    api_key = secret(provider.api_key_env) if provider.api_key_env else None
    returned = probe(provider.base_url, model, api_key, dimension)
    if dimension is not None and returned != dimension:
        raise InvalidRequest(
            f"{provider_id} returns {returned}-dimensional vectors for {model}, not {dimension}.",
            param="embedding_dimension",
        )
    if not 1 <= returned <= MAX_DIMENSION:
        raise InvalidRequest(
            f"{model} returns {returned}-dimensional vectors: at most {MAX_DIMENSION} can be indexed.",
            param="embedding_dimension",
        )
    return _template(model, returned, provider.base_url, provider.api_key_env, provider_id)


def _local(default: Embedder, model: str | None, dimension: int | None) -> EmbeddingSpace | None:
    if model is not None and model != default.model:
        raise InvalidRequest(
            f"The {LOCAL_PROVIDER} provider embeds with {default.model}, not {model}.", param="embedding_model"
        )
    if dimension is not None and dimension != default.dimension:
        raise InvalidRequest(
            f"{default.model} returns {default.dimension}-dimensional vectors, not {dimension}.",
            param="embedding_dimension",
        )
    if default.dimension == CHUNKS_DIMENSION:
        return None
    return _template(default.model, default.dimension, None, None, LOCAL_PROVIDER)


def _template(
    model: str, dimension: int, base_url: str | None, api_key_env: str | None, provider_id: str
) -> EmbeddingSpace:
    now = datetime.now(UTC)
    return EmbeddingSpace("", "", model, dimension, base_url, api_key_env, "vectors", "active", now, None, provider_id)


def _names(providers: dict[str, EmbeddingProvider]) -> str:
    return ", ".join([LOCAL_PROVIDER, *sorted(providers)])
