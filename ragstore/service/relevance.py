"""Relevance metrics over ranked document ids and graded judgments (BEIR / trec_eval conventions).

In service/ beside evaluation.py, which scores `ragstore eval` with them (reembed.py checks a new model with nDCG
too); pure functions, no database. Not to be confused with ragstore.telemetry, the Prometheus metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with exponential gains (2^grade - 1), the convention of the published figures ragstore compares
    itself with (dense all-MiniLM-L6-v2 on msmarco: 0.704; with linear gains the same run scores 0.798)."""
    gains = [2 ** judged.get(doc, 0) - 1 for doc in ranking[:k]]
    ideal = sorted((2**g - 1 for g in judged.values() if g > 0), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains)) / best if best else 0.0


def recall(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, g in judged.items() if g > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def mrr(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranking[:k]):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0
