"""Filtered search never silently loses results: a store that is a sliver of its partition still gets a full k."""

from __future__ import annotations

import numpy as np
import pytest
from pgvector.psycopg import register_vector
from psycopg import sql

from ragstore.service import search
from ragstore.store import chunks
from ragstore.store.db import Database
from tests.support.synthetic import QueryEmbedder, clustered, exact_top, load_store

TENANT = "ten_synthetic"


@pytest.fixture
def sliver(db):
    """A 3,000-chunk store and a 40-chunk store of the same tenant, so the same partition and HNSW index."""
    rng = np.random.default_rng(7)
    big, small = clustered(rng, 3000), clustered(rng, 40)
    with db.connection() as conn:
        register_vector(conn)
        load_store(conn, TENANT, "vs_big", big)
        load_store(conn, TENANT, "vs_small", small)
        conn.execute("ANALYZE chunks")
    return small, rng


def chunk_indexes(hits) -> list[int]:
    return [hit.chunk_index for hit in hits]


def test_a_small_store_in_a_big_partition_gets_an_exact_full_k(db, sliver):
    small, rng = sliver
    for _ in range(10):
        query = clustered(rng, 1)[0]
        hits = search.search(db, QueryEmbedder(query), TENANT, ["vs_small"], "q", k=10)
        assert chunk_indexes(hits) == exact_top(small, query, 10)


@pytest.fixture
def far_sliver(db):
    """A big store around one centre and a small one around a distant centre: near the big store's centre, any
    walk of the shared HNSW index meets only the big store's chunks first."""
    rng = np.random.default_rng(11)
    here, there = np.zeros(384, np.float32), np.zeros(384, np.float32)
    here[0], there[1] = 1.0, 1.0
    big = _around(rng, here, 3000)
    small = _around(rng, there, 40)
    with db.connection() as conn:
        register_vector(conn)
        load_store(conn, TENANT, "vs_big", big)
        load_store(conn, TENANT, "vs_small", small)
        conn.execute("ANALYZE chunks")
    return small, rng, here


def _around(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    points = centre + 0.05 * rng.standard_normal((n, 384)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_when_the_index_walk_comes_back_short_the_exact_scan_fills_k(db, far_sliver, monkeypatch):
    small, rng, here = far_sliver
    monkeypatch.setattr(search, "EXACT_MAX_CHUNKS", 0)  # take the HNSW path first
    monkeypatch.setattr("ragstore.store.chunks.MAX_SCAN_TUPLES", 50)  # and let it give up early,
    monkeypatch.setattr("ragstore.store.chunks.EF_SEARCH", 10)  # after a narrow walk
    with db.connection() as conn:  # without sorting, the planner walks the HNSW index even for this small table
        name = conn.execute("SELECT current_database() AS name").fetchone()["name"]
        conn.execute(sql.SQL("ALTER DATABASE {} SET enable_sort = off").format(sql.Identifier(name)))
    hnsw_db = Database(db.url, pool_size=2)
    hnsw_db.pool.open(wait=True)
    try:
        query = _around(rng, here, 1)[0]
        with hnsw_db.tenant(TENANT) as conn:
            register_vector(conn)
            walked = chunks.search_chunks(conn, TENANT, ["vs_small"], query, 10, 0.0)
        assert len(walked) < 10  # the index walk alone comes back short...
        hits = search.search(hnsw_db, QueryEmbedder(query), TENANT, ["vs_small"], "q", k=10)
        assert chunk_indexes(hits) == exact_top(small, query, 10)  # ...and search still answers exactly
    finally:
        hnsw_db.close()


@pytest.mark.parametrize(
    ("chunks", "partition", "exact"),
    [
        (10_000, 0, True),  # small: always exact
        (10_001, 0, False),  # a partition never analysed counts as none: no sliver
        (12_000, 1_000_000, True),  # 1.2 % of a million: a sliver, exact
        (15_000, 750_000, False),  # 2 %: not a sliver
        (15_000, 5_000_000, True),  # 0.3 %, at the sliver cap
        (15_001, 5_000_000, False),  # past the cap, the walk even for a sliver
    ],
)
def test_which_stores_are_scanned_exactly(chunks, partition, exact):
    assert search.exact_scan(chunks, partition) is exact


@pytest.fixture
def paths(monkeypatch):
    """The `exact` of every dense query search runs, in order."""
    taken = []
    original = chunks.search_chunks

    def spy(*args, exact=False, **kwargs):
        taken.append(exact)
        return original(*args, exact=exact, **kwargs)

    monkeypatch.setattr(chunks, "search_chunks", spy)
    return taken


@pytest.mark.parametrize(
    ("store", "sliver_max", "first_path"),
    [
        ("vs_small", 100, True),  # 40 of 3,040 rows: a sliver under the cap
        ("vs_small", 39, False),  # the same sliver past a lower cap
        ("vs_big", 10_000, False),  # 3,000 of 3,040: no sliver
    ],
)
def test_search_reads_the_partition_to_choose_its_path(db, sliver, paths, monkeypatch, store, sliver_max, first_path):
    monkeypatch.setattr(search, "EXACT_MAX_CHUNKS", 10)
    monkeypatch.setattr(search, "SLIVER_MAX_CHUNKS", sliver_max)
    small, rng = sliver
    search.search(db, QueryEmbedder(clustered(rng, 1)[0]), TENANT, [store], "q", k=10)
    assert paths[0] is first_path
