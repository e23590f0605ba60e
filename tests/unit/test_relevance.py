"""The relevance metrics (nDCG, recall, MRR), on hand-computed cases."""

import math

import pytest

from ragstore.service import relevance


def test_ndcg_uses_exponential_gains():
    judged = {"a": 2, "b": 1}
    perfect, swapped = relevance.ndcg(["a", "b"], judged), relevance.ndcg(["b", "a"], judged)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert perfect == 1.0
    assert swapped == pytest.approx((1 / math.log2(2) + 3 / math.log2(3)) / ideal)
    assert relevance.ndcg(["x", "y"], judged) == 0.0 and relevance.ndcg(["a"], {}) == 0.0


def test_recall_and_mrr():
    judged = {"a": 1, "b": 3, "z": 0}
    assert relevance.recall(["x", "b", "a"], judged, 2) == 0.5
    assert relevance.recall(["x", "b", "a"], judged, 3) == 1.0
    assert relevance.mrr(["x", "y", "b"], judged) == pytest.approx(1 / 3)
    assert relevance.mrr(["z"], judged) == 0.0
