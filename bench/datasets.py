"""The vector sets the ANN benchmarks share: seeded clustered vectors, and real embeddings of a text corpus.

Each set is base vectors, query vectors (never in the base) and the exact top-k of every query by cosine, so any
engine's recall@k is measured against the same truth.

- clustered(n): n unit vectors around 1,000 seeded Gaussian centres in 384 dimensions (tests/support/synthetic's
  generator, the one bench/tenants.py and the tests use). The queries are drawn from the same distribution.
- real(n): the local model's embeddings of msmarco's 5,000 passages (../shared/data) cut into sentence windows,
  up to about 33k texts; the queries are held-out windows. Embedded once and kept in bench/results/cache.

Nothing is downloaded: the corpus is on disk and the model comes from the installed package.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
