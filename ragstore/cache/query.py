"""The query cache: query embeddings and search results, each kind with its own time-to-live.

Embeddings are keyed by the embedder (model, dimension, implementation) and the exact text, and stored as float32
bytes. Search results are keyed by everything the search was asked (tenant, stores, queries, k, filters, ranker,
alpha, threshold) and by each store's state as the search read it: its content fingerprint (which changes whenever
one of its attachments is written or removed), model, dimension and active embedding space. A write to a store thus
makes the next search of it miss, in every process, without the write paths knowing about the cache; the TTL bounds
what a fingerprint cannot see (a repair by `ragstore check`, a float16 conversion changing scores in the 4th decimal).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from ragstore import telemetry
from ragstore.cache.backends import Backend, MemoryBackend, RedisBackend
from ragstore.config import Settings
from ragstore.ingest.embed import Embedder
from ragstore.models import SearchHit, VectorStore

# Part of every key: a change to what is cached or how makes old entries unreachable.
VERSION = "v1"
EMBEDDING, SEARCH = "query_embedding", "search"


class QueryCache:
    """Query embeddings and search results in a backend; a kind whose TTL is 0 (or with no backend) is not cached."""

    def __init__(
        self,
        backend: Backend | None,
        embedding_ttl: float = 0,
        search_ttl: float = 0,
        prefix: str = "ragstore:",
    ) -> None:
        self.backend = backend
        on = backend is not None  # (an empty MemoryBackend is falsy)
        self.ttl = {EMBEDDING: embedding_ttl if on else 0, SEARCH: search_ttl if on else 0}
        self.prefix = f"{prefix}{VERSION}:"
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def disabled(cls) -> QueryCache:
        return cls(None)

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """The texts' embeddings, one row each: cached ones from the cache, the others from the embedder (in one
        call) and then cached."""
        if not self.ttl[EMBEDDING]:
            return embedder.embed(texts)
        identity = _embedder_identity(embedder)
        keys = [self._key(EMBEDDING, [*identity, text]) for text in texts]
        cached = [_vector(self._get(EMBEDDING, key), embedder.dimension) for key in keys]
        found = {i: vector for i, vector in enumerate(cached) if vector is not None}
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            computed = embedder.embed([texts[i] for i in missing])
            for i, vector in zip(missing, computed, strict=True):
                found[i] = np.asarray(vector, dtype=np.float32)
                self._set(EMBEDDING, keys[i], found[i].astype("<f4").tobytes())
        return np.stack([found[i] for i in range(len(texts))])

    def search_key(
        self,
        embedder: Embedder,
        tenant_id: str,
        stores: Sequence[VectorStore],
        queries: Sequence[str],
        **options: Any,
    ) -> str | None:
        """The key of a search's results (None when results are not cached); options are the search's own
        (k, threshold, filters, ranker, alpha), JSON-serialisable."""
        if not self.ttl[SEARCH]:
            return None
        state = [
            [s.id, s.content_fingerprint, s.embedding_model, s.embedding_dim, s.active_space_id, s.text_search_language]
            for s in stores
        ]
        return self._key(SEARCH, [tenant_id, state, list(queries), _embedder_identity(embedder), options])

    def get_hits(self, key: str | None) -> list[SearchHit] | None:
        """The cached results under key, or None."""
        if key is None:
            return None
        value = self._get(SEARCH, key)
        if value is None:
            return None
        try:
            return [SearchHit(**row) for row in json.loads(value)]
        except (ValueError, TypeError):  # written by another version: a miss
            return None

    def put_hits(self, key: str | None, hits: Sequence[SearchHit]) -> None:
        if key is not None:
            self._set(SEARCH, key, _compact([asdict(hit) for hit in hits]).encode())

    def stats(self) -> dict[str, Any]:
        """Lookups of this process by kind and result, and the backend."""
        with self._lock:
            counts = dict(self._counts)
        kinds = {kind: {result: counts.get((kind, result), 0) for result in ("hit", "miss")} for kind in self.ttl}
        return {"backend": self.backend.name if self.backend is not None else None, **kinds}

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()

    def _key(self, kind: str, parts: Any) -> str:
        return f"{self.prefix}{kind}:{hashlib.sha256(_compact(parts).encode()).hexdigest()}"

    def _get(self, kind: str, key: str) -> bytes | None:
        assert self.backend is not None
        value = self.backend.get(key)
        self._count(kind, "miss" if value is None else "hit")
        return value

    def _set(self, kind: str, key: str, value: bytes) -> None:
        assert self.backend is not None
        self.backend.set(key, value, self.ttl[kind])

    def _count(self, kind: str, result: str) -> None:
        with self._lock:
            self._counts[kind, result] += 1
        telemetry.CACHE_REQUESTS.labels(kind, result).inc()


def open_cache(settings: Settings) -> QueryCache:
    """The cache the settings ask for: Redis at RAGSTORE_REDIS_URL, else in-process."""
    backend: Backend = RedisBackend(settings.redis_url) if settings.redis_url else MemoryBackend()
    return QueryCache(backend, settings.cache_embedding_ttl_seconds, settings.cache_search_ttl_seconds)


def _embedder_identity(embedder: Embedder) -> list[Any]:
    # The implementation too: two backends of one model name (e.g. fp32 and int8) give different vectors.
    return [embedder.model, embedder.dimension, type(embedder).__name__]


def _vector(value: bytes | None, dimension: int) -> np.ndarray | None:
    if value is None or len(value) != 4 * dimension:
        return None
    return np.frombuffer(value, dtype="<f4").astype(np.float32)


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
