"""fusion.py's rankings on hand-made candidates: what each variant promises, and the default's two regimes."""

from __future__ import annotations

import math

import pytest

from ragstore.models import SearchHit
from ragstore.service import fusion

N = 5000


def idf(df: int) -> float:
    return math.log(1 + (N - df + 0.5) / (df + 0.5))


def candidates(dense, lexical, dfs, extra=None) -> fusion.Candidates[str]:
    return fusion.Candidates(dict(dense), dict(lexical), {**(extra or {}), **dict(dense)}, tuple(dfs), N)


# Dense prefers a, b, c; BM25 prefers z (not in dense's list), then c.
DENSE = [("a", 0.62), ("b", 0.60), ("c", 0.58)]
EXTRA = {"z": 0.40}


def test_a_query_of_common_words_ranks_as_dense_alone():
    common = candidates(DENSE, [("z", 9.0), ("c", 4.0)], [400, 900], EXTRA)
    assert common.rarest < fusion.RESCUE_FROM
    assert fusion.lexical_weight(common) == 0
    scores = fusion.rare_rescue(common)
    assert fusion.ranked(scores) == ["a", "b", "c", "z"]
    assert scores["a"] == pytest.approx(0.62)  # the cosine itself


def test_a_query_holding_a_term_one_chunk_has_brings_that_chunk_first():
    rare = candidates(DENSE, [("z", idf(1) + 1.0), ("c", 1.0)], [1, 900], EXTRA)
    assert rare.rarest == pytest.approx(1.0)
    assert fusion.lexical_weight(rare) == pytest.approx(fusion.RESCUE_WEIGHT)
    assert fusion.ranked(fusion.rare_rescue(rare))[0] == "z"
    assert fusion.ranked(fusion.dense(rare))[0] == "a"


def test_bounded_lexical_is_absolute_while_min_max_stretches_a_weak_list():
    # Only common words match: the best BM25 hit holds a sliver of the query's idf mass.
    weak = candidates(DENSE, [("z", 0.5), ("c", 0.4)], [1, 2, 3], EXTRA)
    assert fusion.bounded_lexical(weak)["z"] == pytest.approx(0.5 / weak.bound)
    assert fusion.bounded_lexical(weak)["z"] < 0.05
    assert fusion.lexical(weak)["z"] == 1.0  # relative to the best: stretched to the top
    assert fusion.ranked(fusion.bounded(weak, 0.8))[0] == "a"
    assert fusion.ranked(fusion.min_max(weak, 0.4))[0] == "z"  # the weak match, stretched to 1, leads


def test_bounded_lexical_caps_at_one_and_is_zero_without_a_bound():
    full = candidates([], [("z", 30.0)], [1])
    assert fusion.bounded_lexical(full) == {"z": 1.0}
    assert fusion.bounded_lexical(candidates([], [("z", 3.0)], [])) == {"z": 0.0}


def test_terms_no_chunk_holds_count_in_the_bound_but_not_in_rarest():
    # A paraphrase whose one word in the stores is common: its match holds a small share of the query.
    c = candidates(DENSE, [("z", idf(300))], [300, 0, 0, 0], EXTRA)
    assert c.bound == pytest.approx(idf(300) + 3 * idf(0))
    assert fusion.bounded_lexical(c)["z"] < 0.25
    assert c.rarest == pytest.approx(idf(300) / idf(1))


def test_rrf_adds_the_weighted_reciprocal_ranks():
    c = candidates([("a", 0.9), ("b", 0.8)], [("b", 5.0), ("z", 4.0)], [1.0], {"z": 0.1})
    scores = fusion.rrf(c, weight=0.5, k=60)
    assert scores["b"] == pytest.approx(0.5 / 62 + 0.5 / 61)
    assert scores["z"] == pytest.approx(0.5 / 62)
    assert fusion.ranked(scores) == ["b", "a", "z"]


def test_fuse_hits_scores_lie_in_0_1_and_keep_the_hits():
    def hit(cid: int, score: float) -> SearchHit:
        return SearchHit(cid, "vs", "f", "f.txt", cid, None, f"chunk {cid}", score)

    dense_hits, lexical_hits = [hit(1, 0.7), hit(2, 0.6)], [hit(3, 40.0), hit(2, 3.0)]
    fused = fusion.fuse_hits(dense_hits, lexical_hits, {3: 0.3}, (1, 50), N)
    assert [h.chunk_id for h in fused] == [3, 2, 1]  # a rare term: BM25 leads
    assert all(0 <= h.score <= 1 for h in fused)
    assert fused[0].text == "chunk 3"
    old = fusion.fuse_hits(dense_hits, lexical_hits, {3: 0.3}, (1, 50), N, alpha=1.0)
    assert [h.chunk_id for h in old] == [1, 2, 3]


def test_the_lexical_ranker_keeps_bm25_order_with_absolute_scores():
    hits = [SearchHit(i, "vs", "f", "f.txt", i, None, "t", s) for i, s in ((1, 20.0), (2, 12.0), (3, 2.0))]
    scored = fusion.lexical_hits(hits, (1, 100), N)
    assert [h.chunk_id for h in scored] == [1, 2, 3]
    assert scored[0].score == 1.0 and 0 < scored[2].score < scored[1].score < 1
