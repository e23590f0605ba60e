"""Many tenants on one ragstore: does a small company's search stay fast while the big ones grow tenfold?

    .venv/bin/python bench/tenants.py [--large 5000] [--growth 10] [--queries 20]

100 tenants of skewed sizes (5 large, 95 small of 50..2,000 chunks) of seeded clustered 384-d vectors, in a fresh
embedded PostgreSQL with 16 partitions. Each sampled tenant's search goes through ragstore's own search (tenant
transaction, row-level security, exact or HNSW path), timed per query; recall@10 is against exact numpy search. Then
the large tenants grow tenfold and the same queries run again. Prints tables; writes bench/results/tenants.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pg import QueryEmbedder  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.service import search  # noqa: E402
from ragstore.store import chunks, embedded  # noqa: E402
from ragstore.store.db import open_database  # noqa: E402
from tests.support.synthetic import clustered, exact_top, load_store  # noqa: E402

TENANTS, LARGE = 100, 5


def sizes(rng: np.random.Generator, large: int) -> dict[str, int]:
    small = np.clip(rng.lognormal(mean=5.5, sigma=1.0, size=TENANTS - LARGE), 50, 2000).astype(int)
    found = {f"ten_large_{i:02d}": large for i in range(LARGE)}
    found.update({f"ten_small_{i:02d}": int(n) for i, n in enumerate(small)})
    return found


def measure(db, stores: dict[str, np.ndarray], tenants: list[str], queries: int, rng) -> dict[str, dict]:
    """Per tenant: search latencies (ms) and mean recall@10 through the service's search."""
    embedder = QueryEmbedder()
    results = {}
    for tenant in tenants:
        vectors = stores[tenant]
        latencies, recalls = [], []
        for _ in range(queries):
            embedder.query = vectors[rng.integers(len(vectors))] + 0.1 * clustered(rng, 1)[0]
            embedder.query /= np.linalg.norm(embedder.query)
            began = time.perf_counter()
            hits = search.search(db, embedder, tenant, [f"vs_{tenant}"], "q", k=10)
            latencies.append((time.perf_counter() - began) * 1000)
            truth = set(exact_top(vectors, embedder.query, 10))
            recalls.append(len(truth & {hit.chunk_index for hit in hits}) / 10)
        results[tenant] = {"latencies": latencies, "recall": statistics.mean(recalls)}
    return results


def summary(results: dict[str, dict], kind: str) -> dict[str, float]:
    picked = [r for tenant, r in results.items() if kind in tenant]
    latencies = sorted(x for r in picked for x in r["latencies"])
    return {
        "tenants": len(picked),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "recall_at_10": statistics.mean(r["recall"] for r in picked),
    }


def path_costs(db, stores: dict[str, np.ndarray], tenant: str, rng) -> dict[str, float]:
    """Median ms of the exact scan and of the HNSW walk on one store, side by side."""
    timings: dict[str, list[float]] = {"exact": [], "hnsw": []}
    vectors = stores[tenant]
    for _ in range(20):
        query = vectors[rng.integers(len(vectors))]
        for path in ("exact", "hnsw"):
            with db.tenant(tenant) as conn:
                register_vector(conn)
                began = time.perf_counter()
                chunks.search_chunks(conn, tenant, [f"vs_{tenant}"], query, 10, 0.0, exact=path == "exact")
                timings[path].append((time.perf_counter() - began) * 1000)
    return {path: statistics.median(values) for path, values in timings.items()}


def grow(db, stores, tenants, growth: int, rng) -> None:
    """Append (growth - 1) times each tenant's size to its store."""
    with db.connection() as conn:
        register_vector(conn)
        for tenant in tenants:
            extra = clustered(rng, len(stores[tenant]) * (growth - 1))
            load_store(conn, tenant, f"vs_{tenant}", extra, start=len(stores[tenant]))
            stores[tenant] = np.concatenate([stores[tenant], extra])
        conn.execute("VACUUM ANALYZE chunks")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=5000, help="chunks of each large tenant before growth")
    parser.add_argument("--growth", type=int, default=10)
    parser.add_argument("--queries", type=int, default=20, help="queries per sampled tenant")
    parser.add_argument("--ef-search", default="40,100,200,400", help="HNSW widths to compare on the large stores")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    folder = Path(tempfile.mkdtemp(prefix="ragstore-bench-"))
    settings = Settings(data_dir=folder)
    db = open_database(settings)
    try:
        stores: dict[str, np.ndarray] = {}
        began = time.perf_counter()
        with db.connection() as conn:
            register_vector(conn)
            for tenant, n in sizes(rng, args.large).items():
                stores[tenant] = clustered(rng, n)
                load_store(conn, tenant, f"vs_{tenant}", stores[tenant])
            conn.execute("VACUUM ANALYZE chunks")
        load_s = time.perf_counter() - began
        sampled = [t for t in stores if "large" in t] + [t for t in stores if "small" in t][:20]
        before = measure(db, stores, sampled, args.queries, np.random.default_rng(1))
        costs_before = path_costs(db, stores, "ten_large_00", np.random.default_rng(3))
        began = time.perf_counter()
        grow(db, stores, [t for t in stores if "large" in t], args.growth, rng)
        grow_s = time.perf_counter() - began
        after = measure(db, stores, sampled, args.queries, np.random.default_rng(1))
        costs_after = path_costs(db, stores, "ten_large_00", np.random.default_rng(3))
        large = [t for t in stores if "large" in t]
        widths = {}
        for width in (int(w) for w in args.ef_search.split(",")):
            chunks.EF_SEARCH = width
            widths[width] = summary(measure(db, stores, large, args.queries, np.random.default_rng(5)), "large")
        with db.connection() as conn:
            total = conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]
    finally:
        db.close()
        embedded.stop(settings.pgdata)
        shutil.rmtree(folder, ignore_errors=True)

    report = {
        "tenants": TENANTS,
        "large_tenants": LARGE,
        "large_before": args.large,
        "growth": args.growth,
        "chunks_after": total,
        "load_s": load_s,
        "grow_s": grow_s,
        "exact_max_chunks": search.EXACT_MAX_CHUNKS,
        "before": {kind: summary(before, kind) for kind in ("small", "large")},
        "after": {kind: summary(after, kind) for kind in ("small", "large")},
        "large_store_paths_ms": {"before": costs_before, "after": costs_after},
    }
    print(f"100 tenants; large ones {args.large} -> {args.large * args.growth} chunks; {total} chunks in all")
    print(f"{'phase':<7} {'tenants':<6} {'n':>3} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10}")
    for phase in ("before", "after"):
        for kind in ("small", "large"):
            row = report[phase][kind]
            print(
                f"{phase:<7} {kind:<6} {row['tenants']:>3} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
                f" {row['recall_at_10']:>10.3f}"
            )
    ratio = report["after"]["small"]["p50_ms"] / report["before"]["small"]["p50_ms"]
    print(f"small tenants' p50 after / before the large ones grew {args.growth}x: {ratio:.2f}")
    for phase, costs in report["large_store_paths_ms"].items():
        n = args.large * (args.growth if phase == "after" else 1)
        print(f"one large store ({n} chunks), median ms: exact {costs['exact']:.2f}, hnsw {costs['hnsw']:.2f}")
    report["small_p50_ratio"] = ratio
    report["large_by_ef_search"] = widths
    print(f"large stores after growth, by hnsw.ef_search: {'ef':>5} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10}")
    for width, row in widths.items():
        print(f"{'':<47} {width:>5} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['recall_at_10']:>10.3f}")
    out = Path(__file__).parent / "results" / "tenants.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
