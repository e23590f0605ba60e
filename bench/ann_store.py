"""bench/ann.py's ragstore section: the set in ragstore's schema as one tenant's stores, searched by search()."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
from pgvector.psycopg import register_vector

from bench import datasets, pg
from ragstore.config import Settings
from ragstore.service import search
from ragstore.store import chunks
from ragstore.store.db import Database, open_database
from tests.support.synthetic import load_store

K = datasets.K
TENANT = "ten_ann"
# Store name -> share of the set; the last store takes the rest.
STORES = {"vs_0_1pct": 0.001, "vs_1pct": 0.01, "vs_10pct": 0.1, "vs_rest": None}
SELECTIVITIES = {"0.1%": ["vs_0_1pct"], "1%": ["vs_1pct"], "10%": ["vs_10pct"], "100%": list(STORES)}


def members(n: int) -> dict[str, np.ndarray]:
    """Each store's vectors (indexes into the base), a seeded random split: no store follows the clusters."""
    order = np.random.default_rng(2024).permutation(n)
    found, start = {}, 0
    for store, share in STORES.items():
        end = n if share is None else start + max(1, round(share * n))
        found[store], start = np.sort(order[start:end]), end
    return found


def build_ragstore(dsn: str, folder: Path, vs: datasets.VectorSet, args: argparse.Namespace) -> dict:
    """The set in ragstore's schema, one tenant, the four stores; seconds of the load and of the index build."""
    db = open_database(Settings(database_url=dsn, data_dir=folder))
    try:
        with db.connection() as conn:
            register_vector(conn)
            if conn.execute("SELECT 1 FROM tenants WHERE id = %s", (TENANT,)).fetchone():
                raise SystemExit(
                    f"{vs.name}: the kept database holds a half-made load; remove it or use another --keep"
                )
            existing = conn.execute("SELECT pg_get_indexdef('chunks_embedding'::regclass) AS d").fetchone()["d"]
            definition = index_definition(existing, args.hnsw)
            conn.execute("DROP INDEX chunks_embedding")
            pg.say(f"{vs.name}: loading ragstore's chunks")
            began = time.perf_counter()
            for store, indexes in members(len(vs.base)).items():
                load_store(conn, TENANT, store, vs.base[indexes])
            load_s = time.perf_counter() - began
            pg.say(f"{vs.name}: building ragstore's HNSW index")
            pg.tune_build(conn, args.maintenance_work_mem, args.parallel_workers)
            load_before, began = pg.load(), time.perf_counter()
            conn.execute(definition)
            build_s = time.perf_counter() - began
            conn.execute("VACUUM ANALYZE chunks")
            index_bytes = conn.execute(
                "SELECT sum(pg_relation_size(inhrelid))::bigint AS n FROM pg_inherits "
                "WHERE inhparent = 'chunks_embedding'::regclass"
            ).fetchone()["n"]
    finally:
        db.close()
    pg.say(f"{vs.name}: ragstore's index built in {build_s:.0f} s")
    return {
        "load_s": load_s,
        "build_s": build_s,
        "index_bytes": index_bytes,
        "index_definition": definition,
        "hnsw": {"m": args.hnsw[0], "ef_construction": args.hnsw[1]},
        "load_average_during_build": [load_before, pg.load()],
    }


def index_definition(existing: str, hnsw: tuple[int, int]) -> str:
    """chunks_embedding's definition as pg_get_indexdef gives it, for every partition and with --hnsw's m and
    ef_construction in place of its own (the definition of a partitioned index reads ON ONLY, which would build no
    partition's index)."""
    definition = re.sub(r" WITH \([^)]*\)$", "", existing.replace(" ON ONLY ", " ON ", 1))
    return f"{definition} WITH (m = {int(hnsw[0])}, ef_construction = {int(hnsw[1])})"


def filtered(dsn: str, folder: Path, vs: datasets.VectorSet) -> list[dict]:
    """Each selectivity through ragstore's search() and through its dense query alone: recall@10, p50/p99."""
    split = members(len(vs.base))
    db = open_database(Settings(database_url=dsn, data_dir=folder))
    rows = []
    try:
        with db.connection() as conn:
            partitions = conn.execute(
                "SELECT inhrelid::regclass::text AS r FROM pg_inherits "
                "WHERE inhparent IN ('chunks'::regclass, 'chunks_embedding'::regclass)"
            ).fetchall()
        pg.read_files(dsn, [row["r"] for row in partitions])
        for label, stores in SELECTIVITIES.items():
            indexes = np.concatenate([split[s] for s in stores])
            truth = vs.truth if label == "100%" else indexes[datasets.exact_top(vs.base[indexes], vs.queries)]
            exact = len(indexes) <= search.EXACT_MAX_CHUNKS
            rows.append({"selectivity": label, "stores": stores, "chunks": len(indexes)})
            rows[-1]["path"] = "exact" if exact else "hnsw"
            service_search(db, stores, vs.queries)  # warm-up
            found, times = service_search(db, stores, vs.queries)
            rows[-1].update({"recall_at_10": datasets.recall(lookup(split, found), truth), **pg.percentiles(times)})
            found, times = dense_query(db, stores, vs.queries, exact)
            rows[-1]["dense_query"] = {"recall_at_10": datasets.recall(lookup(split, found), truth)}
            rows[-1]["dense_query"].update(pg.percentiles(times))
            rows[-1]["load_average"] = pg.load()
            pg.say(f"{vs.name} ragstore {label}: {rows[-1]}")
    finally:
        db.close()
    return rows


def service_search(db: Database, stores: list[str], queries: np.ndarray) -> tuple[list, list[float]]:
    """search() as the API calls it (dense ranker, no cache): each query's hits and ms."""
    embedder = pg.QueryEmbedder()
    found, times = [], []
    for query in queries:
        embedder.query = query
        began = time.perf_counter()
        found.append(search.search(db, embedder, TENANT, stores, "q", k=K))
        times.append((time.perf_counter() - began) * 1000)
    return found, times


def dense_query(db: Database, stores: list[str], queries: np.ndarray, exact: bool) -> tuple[list, list[float]]:
    """chunks.search_chunks alone (its tune_hnsw and query) in a tenant transaction: each query's hits and ms."""
    found, times = [], []
    for query in queries:
        with db.tenant(TENANT) as conn:
            began = time.perf_counter()
            found.append(chunks.search_chunks(conn, TENANT, stores, query, K, 0.0, exact=exact))
            times.append((time.perf_counter() - began) * 1000)
    return found, times


def lookup(split: dict[str, np.ndarray], found: list) -> list[list[int]]:
    """Hits as indexes into the set's base: a store's chunk i is its i-th vector."""
    return [[split[hit.vector_store_id][hit.chunk_index] for hit in hits] for hits in found]
