"""What HNSW build parameters cost at insert time: the same vectors inserted into two tables side by side.

    .venv/bin/python bench/hnsw_insert.py [--rows 20000] [--batch 100] [--variants 16,64 24,128] [--preload 0]

One embedded PostgreSQL (ragstore's), one table per variant (id, embedding halfvec(384)) with an HNSW cosine index
built with that variant's m and ef_construction (pgvector's defaults 16,64 against ragstore's 24,128). --preload
vectors are copied into each table before the index is built (a store that already holds chunks), then --rows
clustered unit vectors (tests/support/synthetic.clustered, seeded) are inserted in batches of --batch rows, one
transaction each, by executemany as ragstore inserts a file's chunks. The variants take turns batch by batch, so a
shared machine's load falls on both alike. Reported per variant: median and p90 ms per batch, rows per second over
the whole run, the index's size; and each variant's median over the first's. Writes --out.
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
import psycopg
from pgvector import HalfVector
from pgvector.psycopg import register_vector
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import pg  # noqa: E402
from tests.support.synthetic import clustered  # noqa: E402

OUT = Path(__file__).parent / "results" / "hnsw_insert.json"


def table(m: int, ef_construction: int) -> str:
    return f"items_m{m}_efc{ef_construction}"


def create(conn: psycopg.Connection, variant: tuple[int, int], preload: np.ndarray) -> None:
    """The variant's table, its preloaded vectors, then its index."""
    name = sql.Identifier(table(*variant))
    conn.execute(sql.SQL("CREATE TABLE {} (id bigserial PRIMARY KEY, embedding halfvec(384) NOT NULL)").format(name))
    with conn.cursor().copy(sql.SQL("COPY {} (embedding) FROM STDIN WITH (FORMAT BINARY)").format(name)) as copy:
        copy.set_types(["halfvec"])
        for vector in preload:
            copy.write_row((HalfVector(vector),))
    conn.execute(
        sql.SQL(
            "CREATE INDEX ON {} USING hnsw (embedding halfvec_cosine_ops) WITH (m = {}, ef_construction = {})"
        ).format(name, sql.Literal(variant[0]), sql.Literal(variant[1]))
    )


def insert_batch(conn: psycopg.Connection, variant: tuple[int, int], batch: np.ndarray) -> float:
    """Insert the batch in one transaction; its ms."""
    query = sql.SQL("INSERT INTO {} (embedding) VALUES (%s)").format(sql.Identifier(table(*variant)))
    began = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(query, [(HalfVector(vector),) for vector in batch])
    return (time.perf_counter() - began) * 1000


def measure(url: str, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(2024)
    preload = clustered(rng, args.preload) if args.preload else np.zeros((0, 384), np.float32)
    vectors = clustered(rng, args.rows)
    times: dict[tuple[int, int], list[float]] = {variant: [] for variant in args.variants}
    with psycopg.connect(pg.database(url, "hnsw_insert"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        pg.tune_build(conn, "2GB", 1)
        for variant in args.variants:
            create(conn, variant, preload)
        load_before = pg.load()
        for start in range(0, len(vectors), args.batch):
            for variant in args.variants:
                times[variant].append(insert_batch(conn, variant, vectors[start : start + args.batch]))
        load_after = pg.load()
        sizes = {
            variant: conn.execute("SELECT pg_indexes_size(%s::regclass)", (table(*variant),)).fetchone()[0]
            for variant in args.variants
        }
    first = statistics.median(times[args.variants[0]])
    rows = []
    for variant in args.variants:
        batches = times[variant]
        rows.append(
            {
                "m": variant[0],
                "ef_construction": variant[1],
                "batches": len(batches),
                "median_batch_ms": statistics.median(batches),
                "p90_batch_ms": float(np.percentile(batches, 90)),
                "rows_per_s": args.rows / (sum(batches) / 1000),
                "index_bytes": sizes[variant],
                "median_over_first": statistics.median(batches) / first,
            }
        )
    return {"rows": rows, "load_average": [load_before, load_after]}


def variant(text: str) -> tuple[int, int]:
    m, ef_construction = (int(part) for part in text.split(","))
    return m, ef_construction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--preload", type=int, default=0, help="vectors in each table before its index is built")
    parser.add_argument("--variants", type=variant, nargs="+", default=[(16, 64), (24, 128)], help="m,ef_construction")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ragstore-hnsw-insert-"))
    report: dict = {"machine": {"before": pg.machine()}, "args": {k: v for k, v in vars(args).items() if k != "out"}}
    try:
        with pg.server(folder / "pgdata") as url:
            report["server"] = pg.versions(url)
            report.update(measure(url, args))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report["machine"]["after"] = pg.machine()
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(
        f"{args.rows} clustered 384-d halfvecs in batches of {args.batch}, after {args.preload} preloaded; "
        f"load average {report['load_average'][0]} before, {report['load_average'][1]} after"
    )
    print(f"{'m':>3} {'efc':>4} {'median ms':>10} {'p90 ms':>8} {'rows/s':>8} {'index MB':>9} {'median ratio':>13}")
    for row in report["rows"]:
        print(
            f"{row['m']:>3} {row['ef_construction']:>4} {row['median_batch_ms']:>10.1f} {row['p90_batch_ms']:>8.1f}"
            f" {row['rows_per_s']:>8.0f} {row['index_bytes'] / 2**20:>9.1f} {row['median_over_first']:>13.2f}"
        )


if __name__ == "__main__":
    main()
