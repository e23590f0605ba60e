"""The retrieval metrics, on hand-computed cases."""

import math

import pytest

from ragstore import metrics


def test_ndcg_uses_exponential_gains():
    judged = {"a": 2, "b": 1}
    perfect, swapped = metrics.ndcg(["a", "b"], judged), metrics.ndcg(["b", "a"], judged)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert perfect == 1.0
    assert swapped == pytest.approx((1 / math.log2(2) + 3 / math.log2(3)) / ideal)
    assert metrics.ndcg(["x", "y"], judged) == 0.0 and metrics.ndcg(["a"], {}) == 0.0


def test_recall_and_mrr():
    judged = {"a": 1, "b": 3, "z": 0}
    assert metrics.recall(["x", "b", "a"], judged, 2) == 0.5
    assert metrics.recall(["x", "b", "a"], judged, 3) == 1.0
    assert metrics.mrr(["x", "y", "b"], judged) == pytest.approx(1 / 3)
    assert metrics.mrr(["z"], judged) == 0.0
