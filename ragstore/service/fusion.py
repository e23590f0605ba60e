"""Rank fusion: one ranking from a query's dense and lexical candidates, in pure Python.

search.py gathers the candidates (the dense top list with cosines, the BM25 top list, the cosines of BM25's extra
hits and each query term's document frequency) and calls `fuse_hits`; bench/fusion_study.py scores every function
here on cached candidates, which is how the default was chosen (README, Retrieval quality).

Every function takes Candidates and returns each candidate's score, higher is better. Keys are whatever identifies a
candidate (chunk ids in search, document ids in the study).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from ragstore.models import SearchHit

K = TypeVar("K", bound=Hashable)

# The default, `rare_rescue`: dense alone, unless the query holds a rare term (`rarest` above RESCUE_FROM), when
# bounded lexical scores get a weight rising linearly to RESCUE_WEIGHT for a term only one chunk holds (times the
# query's coverage). Chosen on
# msmarco (the first half of its judged queries and of its exact-token queries), confirmed on the second halves and
# on business-reports (bench/fusion_study.py; README, Retrieval quality).
RESCUE_FROM = 0.8
RESCUE_WEIGHT = 0.7
# The fixed dense weight of `bounded` when called alone (the study measures 0.5 to 0.9), and RRF's usual k.
DEFAULT_ALPHA = 0.8
RRF_K = 60


def idf(df: int, documents: int) -> float:
    """Lucene's BM25 idf of a term df of the documents hold, as search.sql computes it."""
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Candidates(Generic[K]):
    """A query's candidates: the dense list (cosine, best first), the lexical list (raw BM25, best first), the
    cosine of every candidate of either list, each query term's document frequency in the stores (0 for a term
    none holds) and the stores' chunk count."""

    dense: Mapping[K, float]
    lexical: Mapping[K, float]
    cosine: Mapping[K, float]
    dfs: tuple[int, ...] = ()
    documents: int = 0

    @property
    def keys(self) -> list[K]:
        return list(dict.fromkeys([*self.dense, *self.lexical]))

    @property
    def bound(self) -> float:
        """The query's idf mass, its terms that no chunk holds included (at their highest idf): what BM25 gives a
        chunk of average length holding each query term once."""
        return sum(idf(df, self.documents) for df in self.dfs)

    @property
    def coverage(self) -> float:
        """The share of the query's idf mass in terms that some chunk holds: 0..1."""
        bound = self.bound
        return sum(idf(df, self.documents) for df in self.dfs if df > 0) / bound if bound > 0 else 0.0

    @property
    def rarest(self) -> float:
        """The idf of the rarest query term some chunk holds, over that of a term a single chunk holds: 0..1."""
        found = [idf(df, self.documents) for df in self.dfs if df > 0]
        return max(found, default=0.0) / idf(1, max(self.documents, 2))


Fusion = Callable[[Candidates[K]], dict[K, float]]


def ranked(scores: Mapping[K, float]) -> list[K]:
    """Keys best first; ties keep the order given (dense first)."""
    order = {key: i for i, key in enumerate(scores)}
    return sorted(scores, key=lambda key: (-scores[key], order[key]))


def fuse_hits(
    dense_hits: list[SearchHit],
    lexical_hits: list[SearchHit],
    cosines: Mapping[int, float],
    dfs: tuple[int, ...],
    documents: int,
    alpha: float | None = None,
    rrf_k: float | None = None,
) -> list[SearchHit]:
    """search()'s hybrid ranking of both lists' chunks, best first: rare_rescue, or with a fixed dense weight
    alpha the former min-max fusion (`ragstore eval --sweep`), or with rrf_k reciprocal rank fusion at that k
    (divided by its best, 1 / (rrf_k + 1)). Scores lie in 0..1."""
    cosine = {**cosines, **{hit.chunk_id: hit.score for hit in dense_hits}}
    c = Candidates(
        {hit.chunk_id: hit.score for hit in dense_hits},
        {hit.chunk_id: hit.score for hit in lexical_hits},
        cosine,
        dfs,
        documents,
    )
    if rrf_k is not None:
        scores = {key: score * (rrf_k + 1) for key, score in rrf(c, 0.5, rrf_k).items()}
    else:
        scores = rare_rescue(c) if alpha is None else min_max(c, alpha)
    by_id = {hit.chunk_id: hit for hit in [*lexical_hits, *dense_hits]}
    return [replace(by_id[key], score=min(1.0, max(0.0, scores[key]))) for key in ranked(scores)]


def lexical_hits(hits: list[SearchHit], dfs: tuple[int, ...], documents: int) -> list[SearchHit]:
    """The lexical ranker's hits in BM25 order, each scored by bounded_lexical: the share of the query's idf mass
    it matches, capped at 1 (absolute: a chunk holding every query term once scores about 1 on any query)."""
    bound = Candidates({}, {}, {}, dfs, documents).bound
    return [replace(hit, score=min(1.0, hit.score / bound) if bound > 0 else 0.0) for hit in hits]


def dense(c: Candidates[K]) -> dict[K, float]:
    return dict(c.dense)


def lexical(c: Candidates[K]) -> dict[K, float]:
    """BM25 divided by the best one's."""
    best = max(c.lexical.values(), default=0.0) or 1.0
    return {key: score / best for key, score in c.lexical.items()}


def bounded_lexical(c: Candidates[K]) -> dict[K, float]:
    """BM25 divided by the query's idf mass, capped at 1: 1 for a chunk holding every query term as often as an
    average chunk would once, and near 0 when only common words match, whatever the other candidates score."""
    bound = c.bound
    if bound <= 0:
        return {key: 0.0 for key in c.lexical}
    return {key: min(1.0, score / bound) for key, score in c.lexical.items()}


def bounded(c: Candidates[K], alpha: float = DEFAULT_ALPHA) -> dict[K, float]:
    """alpha * cosine (floored at 0) + (1 - alpha) * bounded_lexical: both absolute, so a score means the same on
    every query, and a weak lexical list stays weak instead of being stretched to 0..1."""
    words = bounded_lexical(c)
    return {key: alpha * max(0.0, c.cosine.get(key, 0.0)) + (1 - alpha) * words.get(key, 0.0) for key in c.keys}


def lexical_weight(c: Candidates[K], start: float = RESCUE_FROM, top: float = RESCUE_WEIGHT, low: float = 0.0) -> float:
    """The weight rare_rescue gives lexical scores on this query: low up to `rarest` = start, rising linearly to top
    at `rarest` = 1 (a query term that a single chunk holds), times the query's coverage (the share of its idf mass
    that the stores hold: a question put in other words than the documents' leaves BM25 little to go on)."""
    ramp = max(0.0, min(1.0, (c.rarest - start) / (1 - start)))
    return (low + (top - low) * ramp) * c.coverage


def rescue_floor(documents: int, start: float = RESCUE_FROM) -> int:
    """The fewest chunks holding a term for which rare_rescue does not count it as rare: a query each of whose terms
    no chunk holds or at least this many do has a lexical weight of 0, and is ranked by the cosine alone."""
    top, df = idf(1, max(documents, 2)), 1
    while idf(df, documents) / top > start:
        df += 1
    return df


def rare_rescue(
    c: Candidates[K], start: float = RESCUE_FROM, top: float = RESCUE_WEIGHT, low: float = 0.0
) -> dict[K, float]:
    """`bounded` with a lexical weight that depends on the query (lexical_weight): on a query of common words the
    cosine alone, as dense search; on a query holding a code, a name or a number few chunks share, the chunks that
    match it move up. The score is the cosine, or a blend of the cosine and the share of the query's idf mass
    matched: absolute on every query."""
    return bounded(c, 1 - lexical_weight(c, start, top, low))


def min_max(c: Candidates[K], alpha: float = 0.8) -> dict[K, float]:
    """The former default: both scores min-max normalised over the candidates (a chunk the lexical list lacks
    scores 0 there), alpha * dense + (1 - alpha) * lexical."""
    dense_scale, words_scale = _min_max(c.cosine.values()), _min_max(c.lexical.values())
    return {
        key: alpha * dense_scale(c.cosine.get(key, 0.0))
        + (1 - alpha) * (words_scale(c.lexical[key]) if key in c.lexical else 0.0)
        for key in c.keys
    }


def z_score(c: Candidates[K], alpha: float = 0.8) -> dict[K, float]:
    """Each score as standard deviations from its list's mean; a chunk missing from the lexical list gets that
    list's lowest z."""
    dense_z, words_z = _z(list(c.dense.values())), _z(list(c.lexical.values()))
    floor = min((words_z(v) for v in c.lexical.values()), default=0.0)
    return {
        key: alpha * dense_z(c.cosine.get(key, 0.0))
        + (1 - alpha) * (words_z(c.lexical[key]) if key in c.lexical else floor)
        for key in c.keys
    }


def rrf(c: Candidates[K], weight: float = 0.5, k: float = RRF_K) -> dict[K, float]:
    """Weighted reciprocal rank fusion: weight / (k + dense rank) + (1 - weight) / (k + lexical rank)."""
    scores = {key: 0.0 for key in c.keys}
    for rank, key in enumerate(c.dense, start=1):
        scores[key] += weight / (k + rank)
    for rank, key in enumerate(c.lexical, start=1):
        scores[key] += (1 - weight) / (k + rank)
    return scores


def idf_weighted(c: Candidates[K], alpha: float = 0.8) -> dict[K, float]:
    """min-max fusion whose lexical weight grows with the query's rarest term: (1 - alpha) times twice `rarest`."""
    return min_max(c, 1 - min(1.0, (1 - alpha) * 2 * c.rarest))


def agreement(c: Candidates[K], alpha: float = 0.8, depth: int = 10) -> dict[K, float]:
    """min-max fusion whose lexical weight is (1 - alpha) times twice the overlap of the two top-`depth` lists:
    lexical counts when the two rankers agree it found the same thing."""
    overlap = len(set(list(c.dense)[:depth]) & set(list(c.lexical)[:depth])) / depth
    return min_max(c, 1 - min(1.0, (1 - alpha) * 2 * overlap))


def rescue(c: Candidates[K], share: float = 0.9, rare: float = 0.6) -> dict[K, float]:
    """Dense order, except that lexical hits scoring at least `share` of the query's idf mass move to the front
    when the query holds a rare term (`rarest` at least `rare`): the exact token (a code, a name, a number) that
    dense embeddings blur."""
    scores = {key: max(0.0, c.cosine.get(key, 0.0)) for key in c.keys}
    if c.rarest < rare:
        return scores
    for key, score in bounded_lexical(c).items():
        if score >= share:
            scores[key] += 1.0 + score
    return scores


def _min_max(values: Iterable[float]) -> Callable[[float], float]:
    found = list(values)
    low, high = (min(found), max(found)) if found else (0.0, 1.0)
    return lambda value: min(1.0, max(0.0, (value - low) / (high - low))) if high > low else 1.0


def _z(values: list[float]) -> Callable[[float], float]:
    if len(values) < 2:
        return lambda value: 0.0
    mean, spread = statistics.fmean(values), statistics.pstdev(values) or 1.0
    return lambda value: (value - mean) / spread
