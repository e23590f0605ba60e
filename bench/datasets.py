"""The vector sets the ANN benchmarks share: seeded clustered vectors, and real embeddings of a text corpus.

Each set is base vectors, query vectors (never in the base) and the exact top-k of every query by cosine, so any
engine's recall@k is measured against the same truth.

- clustered(n): n unit vectors around 1,000 seeded Gaussian centres in 384 dimensions (tests/support/synthetic's
  generator, the one bench/tenants.py and the tests use). The queries are drawn from the same distribution.
- clustered_slices(n): the same distribution drawn a slice at a time, for sets of millions (bench/capacity.py),
  with clustered_queries and StreamingTop for the queries and their exact top-k.
- real(n): the local model's embeddings of msmarco's 5,000 passages (../shared/data) cut into sentence windows,
  up to about 33k texts; the queries are held-out windows. Embedded once and kept in bench/results/cache.

Nothing is downloaded: the corpus is on disk and the model comes from the installed package.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.synthetic import DIM  # noqa: E402
from tests.support.synthetic import clustered as clustered_vectors  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco" / "corpus.jsonl"
CACHE = Path(__file__).parent / "results" / "cache"
K = 10


@dataclass(frozen=True)
class VectorSet:
    name: str
    base: np.ndarray  # (n, 384) float32, unit length
    queries: np.ndarray  # (q, 384) float32, unit length
    truth: np.ndarray  # (q, K) indexes into base: the exact top-K by cosine, best first


def clustered(n: int, queries: int = 1000, seed: int = 7, clusters: int = 1000) -> VectorSet:
    rng = np.random.default_rng(seed)
    points = clustered_vectors(rng, n + queries, clusters=clusters)
    base, asked = points[:n], points[n:]
    return VectorSet(f"clustered-{n}", base, asked, exact_top(base, asked))


# clustered_slices draws its vectors this many at a time, each slice from a seed of its own.
SLICE_ROWS = 100_000


def clustered_slices(n: int, seed: int = 7, clusters: int = 1000) -> Iterator[tuple[int, np.ndarray]]:
    """The first n vectors of one endless clustered sequence, as (offset, vectors) slices of SLICE_ROWS: the same
    distribution as clustered(), drawn a slice at a time so that millions never sit in memory at once, and
    prefix-consistent (the first 1M of the 5M set are the 1M set)."""
    centres = np.random.default_rng(seed).standard_normal((clusters, DIM)).astype(np.float32)
    for offset in range(0, n, SLICE_ROWS):
        rng = np.random.default_rng([seed, 1, offset // SLICE_ROWS])
        # A whole slice is drawn even when fewer are wanted: the draws, not only their count, depend on its size.
        yield offset, clustered_vectors(rng, SLICE_ROWS, centres=centres)[: n - offset]


def clustered_queries(count: int, seed: int = 7, clusters: int = 1000) -> np.ndarray:
    """count queries from clustered_slices' distribution (its centres), drawn apart from every slice."""
    centres = np.random.default_rng(seed).standard_normal((clusters, DIM)).astype(np.float32)
    return clustered_vectors(np.random.default_rng([seed, 2]), count, centres=centres)


class StreamingTop:
    """The exact top-k by cosine of every query over base vectors seen a slice at a time."""

    def __init__(self, queries: np.ndarray, k: int = K) -> None:
        self.queries, self.k = queries, k
        self.scores = np.full((len(queries), k), -np.inf, np.float32)
        self.indexes = np.zeros((len(queries), k), np.int64)

    def add(self, offset: int, vectors: np.ndarray) -> None:
        top = exact_top(vectors, self.queries, self.k)
        scores = np.take_along_axis(self.queries @ vectors.T, top, axis=1)
        both_scores = np.concatenate([self.scores, scores], axis=1)
        both = np.concatenate([self.indexes, top + offset], axis=1)
        order = np.argsort(-both_scores, axis=1, kind="stable")[:, : self.k]
        self.scores = np.take_along_axis(both_scores, order, axis=1)
        self.indexes = np.take_along_axis(both, order, axis=1)


def real(n: int = 20_000, queries: int = 500) -> VectorSet:
    """The local model's embeddings of n + queries sentence windows of msmarco; cached by size."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"real-{n}-{queries}.npz"
    if cached.exists():
        found = np.load(cached)
        return VectorSet(f"real-{n}", found["base"], found["queries"], found["truth"])
    texts = windows(n + queries)
    rng = np.random.default_rng(11)
    order = rng.permutation(len(texts))
    vectors = embed(texts)[order]
    base, asked = vectors[queries:], vectors[:queries]
    found = VectorSet(f"real-{n}", base, asked, exact_top(base, asked))
    np.savez(cached, base=found.base, queries=found.queries, truth=found.truth)
    return found


def windows(count: int) -> list[str]:
    """count distinct texts: every passage's runs of 1, 2 and 3 sentences, in corpus order, until there are enough."""
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    passages = [json.loads(line)["text"] for line in lines if line.strip()]
    sentences = [[s for s in re.split(r"(?<=[.!?])\s+", p) if len(s.split()) >= 4] for p in passages]
    found: dict[str, None] = {}
    for width in (1, 2, 3, 4, 5):
        for parts in sentences:
            for start in range(0, max(len(parts) - width + 1, 0)):
                found.setdefault(" ".join(parts[start : start + width]))
                if len(found) == count:
                    return list(found)
    raise SystemExit(f"the corpus gives only {len(found)} distinct windows, fewer than {count}")


def embed(texts: list[str]) -> np.ndarray:
    from ragstore.config import Settings
    from ragstore.ingest.embed import create_embedder

    embedder = create_embedder(Settings())
    parts = [embedder.embed(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    vectors = np.concatenate(parts).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_top(base: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """The k nearest base rows of every query by cosine (dot product of unit vectors), in blocks to bound memory."""
    found = []
    for start in range(0, len(queries), 256):
        scores = queries[start : start + 256] @ base.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        found.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(found)


def recall(found: list[list[int]] | np.ndarray, truth: np.ndarray, k: int = K) -> float:
    """Mean share of each query's true top-k that the engine returned in its top k."""
    hits = [len(set(list(row)[:k]) & set(truth[i, :k].tolist())) for i, row in enumerate(found)]
    return float(np.mean(hits)) / k
