"""bench/ann.py's pure helpers: the split of a set into stores, the percentiles it reports, the build parameters
and database names of a run, and the chunks index definition it builds."""

from __future__ import annotations

import numpy as np

from bench import ann, ann_raw, ann_store, pg
from ragstore.store import spaces


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


def test_a_default_run_builds_with_ragstore_parameters_in_databases_named_for_them():
    assert ann_raw.DEFAULT_HNSW == (spaces.HNSW_M, spaces.HNSW_EF_CONSTRUCTION)
    assert ann.database_name("clustered", 100_000, ann_raw.DEFAULT_HNSW) == (
        f"ann_clustered_100000_m{spaces.HNSW_M}_efc{spaces.HNSW_EF_CONSTRUCTION}"
    )
    # pgvector's defaults keep the name the runs before migration 0014 gave their kept databases.
    assert ann.database_name("clustered", 100_000, (16, 64)) == "ann_clustered_100000"
    assert ann.built_with({}) == {"m": 16, "ef_construction": 64}


def test_the_chunks_index_is_rebuilt_on_every_partition_with_the_run_parameters():
    existing = (
        "CREATE INDEX chunks_embedding ON ONLY public.chunks USING hnsw (embedding halfvec_cosine_ops) "
        "WITH (m='24', ef_construction='128')"
    )
    expected = "CREATE INDEX chunks_embedding ON public.chunks USING hnsw (embedding halfvec_cosine_ops) WITH "
    assert ann_store.index_definition(existing, (16, 64)) == expected + "(m = 16, ef_construction = 64)"
    assert ann_store.index_definition(existing, (24, 128)) == expected + "(m = 24, ef_construction = 128)"
    # A definition without options (a database made before migration 0014).
    before = existing.removesuffix(" WITH (m='24', ef_construction='128')")
    assert ann_store.index_definition(before, (32, 200)) == expected + "(m = 32, ef_construction = 200)"
