"""bench/ann.py's pure helpers: the split of a set into stores, and the percentiles it reports."""

from __future__ import annotations

import numpy as np

from bench import ann_store, pg


def test_the_stores_split_the_set_into_the_named_shares_without_overlap():
    split = ann_store.members(100_000)
    assert [len(split[store]) for store in ann_store.STORES] == [100, 1_000, 10_000, 88_900]
    together = np.concatenate(list(split.values()))
    assert sorted(together.tolist()) == list(range(100_000))
    assert all(np.array_equal(a, b) for a, b in zip(split.values(), ann_store.members(100_000).values(), strict=True))


def test_each_selectivity_searches_its_share_and_100_percent_searches_every_store():
    split = ann_store.members(1_000_000)
    sizes = {label: sum(len(split[s]) for s in stores) for label, stores in ann_store.SELECTIVITIES.items()}
    assert sizes == {"0.1%": 1_000, "1%": 10_000, "10%": 100_000, "100%": 1_000_000}


def test_percentiles_are_the_median_and_the_nearest_rank_99th():
    values = list(range(1, 201))  # 1..200
    assert pg.percentiles(values) == {"p50_ms": 100.5, "p99_ms": 199}
    assert pg.percentiles([7.0]) == {"p50_ms": 7.0, "p99_ms": 7.0}
