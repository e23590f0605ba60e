"""Where should a store leave the exact scan for the HNSW walk, when it is a sliver of a big partition?

    .venv/bin/python bench/exact_boundary.py [--partition 600000] [--stores 5000,10000,...] [--queries 100] [--keep DIR]

One tenant's partition of --partition seeded clustered 384-d vectors (1,000 clusters, as bench/ann.py's), split at
random among stores of the --stores sizes and one big store holding the rest, written file by file (100 chunks a
file, the files of all stores interleaved, as concurrent ingestion writes them); then the partition's HNSW index is
built as ragstore's migrations define it (the report names the index measured). For each small store, the same
--queries held-out queries run through ragstore's dense query in a tenant transaction (row-level security) both
ways: the exact scan and the HNSW walk (pgvector's iterative scan, ragstore's ef_search and max_scan_tuples); then
--whole-queries of them over all the stores together (the graph's own recall). Prints p50/p99 of each and the
walk's recall@10 against the exact scan's answer (a walk that came back short counts its missing results as misses,
before ragstore's exact fallback); writes bench/results/exact_boundary.json. --keep DIR keeps the loaded and
indexed server there and reuses it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from pgvector import HalfVector
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import pg  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.service import search  # noqa: E402
from ragstore.store import chunks  # noqa: E402
from ragstore.store.db import open_database  # noqa: E402
from tests.support.synthetic import clustered, copy_chunks, create_store  # noqa: E402

TENANT, PER_FILE, K = "ten_boundary", 100, 10


def split(rng: np.random.Generator, total: int, sizes: list[int]) -> dict[str, np.ndarray]:
    """Each store's vectors (indexes), a random split: the small stores of the given sizes, vs_rest the others."""
    order = rng.permutation(total)
    found, start = {}, 0
    for size in sizes:
        found[f"vs_{size}"], start = order[start : start + size], start + size
    found["vs_rest"] = order[start:]
    return found


def load(conn, vectors: np.ndarray, stores: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """The tenant, one file per store, and the chunks, written a 100-chunk file at a time in a random order."""
    for store, ids in stores.items():
        create_store(conn, TENANT, store, len(ids))
    parts = [(store, start) for store, ids in stores.items() for start in range(0, len(ids), PER_FILE)]
    with copy_chunks(conn) as copy:
        for i in rng.permutation(len(parts)):
            store, start = parts[i]
            for index in range(start, min(start + PER_FILE, len(stores[store]))):
                row = stores[store][index]
                copy.write_row((TENANT, store, f"file-{store}", index, f"chunk {row}", 1, "", HalfVector(vectors[row])))


def build(db, vectors: np.ndarray, stores: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    with db.connection() as conn:
        register_vector(conn)
        definition = conn.execute("SELECT pg_get_indexdef('chunks_embedding'::regclass) AS d").fetchone()["d"]
        conn.execute("DROP INDEX chunks_embedding")
        began = time.perf_counter()
        load(conn, vectors, stores, rng)
        load_s = time.perf_counter() - began
        pg.say(f"loaded in {load_s:.0f} s; building the HNSW index")
        pg.tune_build(conn, "3GB", 1)
        began = time.perf_counter()
        conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
        build_s = time.perf_counter() - began
        conn.execute("VACUUM ANALYZE chunks")
    pg.say(f"index built in {build_s:.0f} s")
    return {"load_s": load_s, "build_s": build_s}


def walk(db, stores: list[str], queries: np.ndarray, exact: bool) -> tuple[list[list[int]], list[float]]:
    """Each query's ids and time (ms) through ragstore's dense query, one tenant transaction each."""
    found, times = [], []
    for query in queries:
        began = time.perf_counter()
        with db.tenant(TENANT) as conn:
            hits = chunks.search_chunks(conn, TENANT, stores, query, K, 0.0, exact=exact)
        times.append((time.perf_counter() - began) * 1000)
        found.append([hit.chunk_id for hit in hits])
    return found, times


def measure(db, stores: dict[str, np.ndarray], queries: np.ndarray, partition_rows: int, whole: int) -> list[dict]:
    """Each small store, then all stores together (the whole partition: the graph's own recall) on `whole` queries."""
    rows = []
    sets = [([store], queries) for store in stores if store != "vs_rest"] + [(list(stores), queries[:whole])]
    for chosen, asked in sets[:-1]:  # warm-up: the first store measured would otherwise pay for the cold cache
        walk(db, chosen, asked[:10], True), walk(db, chosen, asked[:10], False)
    for chosen, asked in sets:
        truth, exact_ms = walk(db, chosen, asked, True)
        found, hnsw_ms = walk(db, chosen, asked, False)
        recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
        short = sum(len(f) < K for f in found)
        size = sum(len(stores[store]) for store in chosen)
        rows.append(
            {
                "store_chunks": size,
                "queries": len(asked),
                "share_of_partition": size / partition_rows,
                "exact": pg.percentiles(exact_ms),
                "hnsw": {**pg.percentiles(hnsw_ms), "recall_at_10": recall, "short": short},
                "load_average": pg.load(),
            }
        )
        pg.say(f"{', '.join(chosen) if len(chosen) < 3 else 'all stores'}: {rows[-1]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partition", type=int, default=600_000, help="chunks in the tenant's partition")
    parser.add_argument("--stores", default="5000,10000,15000,20000,30000,50000", help="the small stores' sizes")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--whole-queries", type=int, default=20, help="queries over the whole partition")
    parser.add_argument("--keep", type=Path, help="keep the loaded server in this directory and reuse it")
    args = parser.parse_args()
    sizes = [int(size) for size in args.stores.split(",")]
    rng = np.random.default_rng(7)
    points = clustered(rng, args.partition + args.queries, clusters=1000)
    vectors, queries = points[: args.partition], points[args.partition :]
    stores = split(rng, args.partition, sizes)
    folder = args.keep or Path(f"/tmp/ragstore-boundary-{time.time_ns()}")
    before = pg.machine()
    with pg.server(folder / "pgdata", {"shared_buffers": "2GB"}) as url:
        db = open_database(Settings(database_url=url, data_dir=folder, chunk_partitions=16))
        try:
            with db.connection() as conn:
                loaded = conn.execute("SELECT 1 FROM tenants WHERE id = %s", (TENANT,)).fetchone()
            built = {} if loaded else build(db, vectors, stores, rng)
            with db.connection() as conn:
                partition = conn.execute(
                    "SELECT c.tableoid::regclass::text AS name, p.reltuples::bigint AS rows "
                    "FROM chunks c JOIN pg_class p ON p.oid = c.tableoid WHERE c.tenant_id = %s LIMIT 1",
                    (TENANT,),
                ).fetchone()
                indexes = conn.execute(
                    "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition "
                    "FROM pg_index WHERE indrelid = %s::regclass",
                    (partition["name"],),
                ).fetchall()
            pg.read_files(url, [partition["name"], *(index["name"] for index in indexes)])
            rows = measure(db, stores, queries, partition["rows"], args.whole_queries)
        finally:
            db.close()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "machine": {"before": before, "after": pg.machine()},
        "partition_rows": partition["rows"],
        "hnsw_index": next((index["definition"] for index in indexes if "hnsw" in index["definition"]), None),
        "queries": args.queries,
        "ef_search": chunks.EF_SEARCH,
        "max_scan_tuples": chunks.MAX_SCAN_TUPLES,
        "exact_max_chunks": search.EXACT_MAX_CHUNKS,
        **built,
        "stores": rows,
    }
    print_table(report)
    out = Path(__file__).parent / "results" / "exact_boundary.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


def print_table(report: dict) -> None:
    load = report["machine"]["before"]["load_average"]
    print(
        f"partition of {report['partition_rows']} chunks, {report['queries']} queries, ef_search "
        f"{report['ef_search']}, max_scan_tuples {report['max_scan_tuples']}; load average {load}"
    )
    print(report["hnsw_index"])
    print(
        f"{'chunks':>8} {'share':>7} {'queries':>7} {'exact p50':>10} {'p99':>7} {'hnsw p50':>9} {'p99':>7} "
        f"{'recall':>7} {'short':>6}"
    )
    for row in report["stores"]:
        exact, hnsw = row["exact"], row["hnsw"]
        print(
            f"{row['store_chunks']:>8} {row['share_of_partition']:>7.2%} {row['queries']:>7} {exact['p50_ms']:>10.2f} "
            f"{exact['p99_ms']:>7.2f} {hnsw['p50_ms']:>9.2f} {hnsw['p99_ms']:>7.2f} {hnsw['recall_at_10']:>7.3f} "
            f"{hnsw['short']:>6}"
        )


if __name__ == "__main__":
    main()
