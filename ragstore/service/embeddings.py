"""Embeddings as OpenAI's POST /v1/embeddings gives them, by the model ragstore embeds with, so that a client can
embed text exactly as its stores' chunks and queries are embedded (match_documents-style callers need this).

Only the server's model is served (RAGSTORE_EMBEDDING_MODEL, local or remote); it has one dimension, so a
`dimensions` other than it is refused rather than cut. A text longer than the model's window is embedded as
ingestion embeds a long chunk: pooled over windows (ingest/embed.py embed_chunks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ragstore.errors import InvalidRequest
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.embed import Embedder, embed_chunks

MAX_INPUTS = 2048  # OpenAI's bound on an input array
MAX_INPUT_CHARACTERS = 50_000  # per text: about 8,192 tokens, OpenAI's bound for its models
MAX_TOTAL_CHARACTERS = 1_000_000  # per request: the CPU one request may take


@dataclass(frozen=True)
class Embedded:
    model: str
    vectors: np.ndarray  # one L2-normalised float32 row per text
    tokens: int


def embed(
    embedder: Embedder, chunker: Chunker, model: str, texts: Sequence[str], dimensions: int | None = None
) -> Embedded:
    """The texts' embeddings by the server's model, and the tokens they took."""
    if model != embedder.model:
        raise InvalidRequest(
            f"The model '{model}' is not served here: this ragstore embeds with '{embedder.model}'.", param="model"
        )
    if dimensions is not None and dimensions != embedder.dimension:
        raise InvalidRequest(
            f"{embedder.model} gives {embedder.dimension} dimensions, not {dimensions}: leave dimensions out.",
            param="dimensions",
        )
    _check(texts)
    vectors = embed_chunks(embedder, chunker, list(texts))
    return Embedded(embedder.model, vectors, sum(chunker.count(text) for text in texts))


def _check(texts: Sequence[str]) -> None:
    if not texts:
        raise InvalidRequest("input is empty: give a string or a list of up to 2048 strings.", param="input")
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"input holds {len(texts)} texts; at most {MAX_INPUTS}.", param="input")
    for number, text in enumerate(texts):
        if not text.strip():
            raise InvalidRequest(f"input[{number}] is empty.", param="input")
        if len(text) > MAX_INPUT_CHARACTERS:
            raise InvalidRequest(
                f"input[{number}] has {len(text):,} characters; at most {MAX_INPUT_CHARACTERS:,}.", param="input"
            )
    total = sum(len(text) for text in texts)
    if total > MAX_TOTAL_CHARACTERS:
        raise InvalidRequest(f"input has {total:,} characters in all; at most {MAX_TOTAL_CHARACTERS:,}.", param="input")
