"""Sample searches: the live store, searched the normal way, against an exact search of the archive's embeddings.

Some of the archive's own chunk texts are the queries. Each is embedded as search embeds it, rounded to float16 as
the database holds it, and scored by cosine against every archived embedding with NumPy (streamed in blocks); the
live dense search (ragstore.service.search) must return the same chunks, matched by (file_id, chunk_index), in the
same order, with scores within SCORE_TOLERANCE. Chunks whose exact scores tie (within TIE) may come in either order.
Stores larger than search.EXACT_MAX_CHUNKS are searched through the HNSW index, which is approximate: there the
check asks for a mean recall of at least MIN_RECALL over the sample, and the exact scores for the chunks found.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ragstore.archive import format
from ragstore.archive.checks import Check
from ragstore.errors import NotFound, RagstoreError
from ragstore.ingest.embed import Embedder
from ragstore.service import Database, search, spaces, stores

if TYPE_CHECKING:
    from ragstore.archive.container import ArchiveReader

SCORE_TOLERANCE = 1e-3
TIE = 1e-6
TIE_MARGIN = 5  # exact results computed beyond k, to recognise ties at the last rank
MIN_RECALL = 0.9

Key = tuple[str, int]


class Sample:
    """A store's chunk positions in archive order (compactly: 8 bytes a chunk), and the texts picked as queries."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.queries: list[str] = []
        self._file_numbers: dict[str, int] = {}
        self._file_ids: list[str] = []
        self._files = array("i")
        self._indexes = array("i")

    def add(self, key: Key, query: str | None) -> None:
        """The next archived chunk's position; its text if it is one of the queries."""
        number = self._file_numbers.setdefault(key[0], len(self._file_ids))
        if number == len(self._file_ids):
            self._file_ids.append(key[0])
        self._files.append(number)
        self._indexes.append(key[1])
        if query is not None and query.strip():
            self.queries.append(query)

    def key(self, row: int) -> Key:
        return (self._file_ids[self._files[row]], self._indexes[row])


class Remembering:
    """An embedder that remembers the vectors of the single texts it embedded: each sample query is embedded for the
    exact search, then again by the live search, which gets the same vector without running the model twice."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model, self.dimension = embedder.model, embedder.dimension
        self.batch_size, self.max_tokens = embedder.batch_size, embedder.max_tokens
        self._seen: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.embedder.embed(texts)
        if texts[0] not in self._seen:
            self._seen[texts[0]] = self.embedder.embed(texts)
        return self._seen[texts[0]].copy()


def check(
    db: Database,
    embedder: Embedder,
    reader: ArchiveReader,
    tenant_id: str,
    store: dict[str, Any],
    sample: Sample,
    k: int,
) -> Check:
    """The sample queries through the live search against the archive's exact top k."""
    embedder = Remembering(embedder)
    name = f"search {store['id']}"
    vectors = _query_vectors(db, embedder, tenant_id, store, sample, name)
    if isinstance(vectors, Check):
        return vectors
    depth, exact = min(k, sample.total), sample.total <= search.EXACT_MAX_CHUNKS
    member = format.embeddings_member(store["id"])
    expected = exact_top(reader.embeddings(member, sample.total, store["embedding_dim"]), vectors, depth + TIE_MARGIN)
    problems, recalls = [], []
    for query, top in zip(sample.queries, expected, strict=True):
        try:
            hits = search.search(db, embedder, tenant_id, [store["id"]], query, k, ranker="dense")
        except RagstoreError as exc:
            return Check(name, "fail", exc.message)
        live = [((hit.file_id, hit.chunk_index), hit.score) for hit in hits]
        want = [(sample.key(row), max(0.0, score)) for row, score in top]
        problem = compare(live, want, depth) if exact else misscored(live, want)
        recalls.append(recall(live, want[:depth]))
        if problem:
            problems.append(f"query {' '.join(query.split())[:40]!r}: {problem}")
    return _verdict(name, problems, len(recalls), sum(recalls) / len(recalls), depth, exact)


def _query_vectors(
    db: Database, embedder: Embedder, tenant_id: str, store: dict[str, Any], sample: Sample, name: str
) -> np.ndarray | Check:
    """The sample queries embedded for the live store's active space; or the check's outcome when it cannot run."""
    if not sample.queries:
        return Check(name, "skip", "no chunks to search")
    try:
        live_store = stores.get(db, tenant_id, store["id"])
        if live_store.expired:
            return Check(name, "skip", "the live store has expired, so it cannot be searched")
        if (live_store.embedding_model, live_store.embedding_dim) != (store["embedding_model"], store["embedding_dim"]):
            detail = f"the live store is searched with {live_store.embedding_model} now, the archive holds "
            return Check(name, "fail", detail + f"{store['embedding_model']} embeddings")
        queries = spaces.query_embedder(embedder, live_store, spaces.active_space(db, tenant_id, [live_store]))
        return np.stack([query_vector(queries, query) for query in sample.queries])
    except NotFound:
        return Check(name, "fail", "the live store is missing")
    except RagstoreError as exc:
        return Check(name, "fail", exc.message)


def _verdict(name: str, problems: list[str], queries: int, mean_recall: float, depth: int, exact: bool) -> Check:
    if not exact and mean_recall < MIN_RECALL:
        found = f"the index (HNSW) search found {mean_recall:.2f} of the exact top {depth} (at least {MIN_RECALL:g})"
        problems.insert(0, found)
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        return Check(name, "fail", "; ".join(problems[:3]) + more)
    found = (
        f"the same top {depth} as an exact search of the archive's embeddings"
        if exact
        else f"{mean_recall:.2f} of an exact search's top {depth} found through the index (HNSW)"
    )
    return Check(name, "pass", f"{queries} sample queries: {found}, scores within {SCORE_TOLERANCE:g}")


def query_vector(embedder: Embedder, query: str) -> np.ndarray:
    """The query's unit embedding, as search computes it."""
    vector = embedder.embed([query])[0]
    return vector / (np.linalg.norm(vector) or 1.0)


def exact_top(blocks: Iterable[np.ndarray], queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """For each query, the k (row, cosine) nearest among the streamed embeddings, best first (ties by row).

    Both sides are taken as float16, as the database holds them, and scored in float32 as pgvector does.
    """
    q = queries.astype(np.float16).astype(np.float32)
    q /= np.where((norms := np.linalg.norm(q, axis=1, keepdims=True)) == 0, 1, norms)
    best_rows = np.empty((len(q), 0), dtype=np.int64)
    best_scores = np.empty((len(q), 0), dtype=np.float32)
    offset = 0
    for block in blocks:
        vectors = block.astype(np.float32)
        lengths = np.linalg.norm(vectors, axis=1)
        scores = (q @ vectors.T) / np.where(lengths == 0, 1, lengths)
        rows = np.broadcast_to(np.arange(offset, offset + len(block)), scores.shape)
        best_scores = np.concatenate([best_scores, scores], axis=1)
        best_rows = np.concatenate([best_rows, rows], axis=1)
        if best_scores.shape[1] > k:
            keep = np.argpartition(-best_scores, k - 1, axis=1)[:, :k]
            best_scores = np.take_along_axis(best_scores, keep, axis=1)
            best_rows = np.take_along_axis(best_rows, keep, axis=1)
        offset += len(block)
    return [
        sorted(zip(rows.tolist(), scores.tolist(), strict=True), key=lambda pair: (-pair[1], pair[0]))
        for rows, scores in zip(best_rows, best_scores, strict=True)
    ]


def compare(live: list[tuple[Key, float]], expected: list[tuple[Key, float]], k: int) -> str | None:
    """What differs between the live results and the exact ones (expected: k or more, best first); None if nothing."""
    want, scores = expected[:k], dict(expected)
    if len(live) != len(want):
        return f"{len(live)} results instead of {len(want)}"
    for rank, ((key, score), (want_key, want_score)) in enumerate(zip(live, want, strict=True), 1):
        if abs(score - want_score) > SCORE_TOLERANCE:
            return f"rank {rank} scored {score:.4f} instead of {want_score:.4f}"
        if key != want_key and abs(scores.get(key, -2.0) - want_score) > TIE:
            return f"rank {rank} is {_name(key)} instead of {_name(want_key)}"
    return None


def misscored(live: list[tuple[Key, float]], expected: list[tuple[Key, float]]) -> str | None:
    """A live result whose score is not its exact one (for results the exact list holds)."""
    scores = dict(expected)
    off = [key for key, score in live if key in scores and abs(score - scores[key]) > SCORE_TOLERANCE]
    return f"{_name(off[0])} scored otherwise than exactly" if off else None


def recall(live: list[tuple[Key, float]], want: list[tuple[Key, float]]) -> float:
    """The share of the exact results that the live search found."""
    return len({key for key, _ in live} & {key for key, _ in want}) / len(want) if want else 1.0


def _name(key: Key) -> str:
    return f"{key[0]} chunk {key[1]}"
