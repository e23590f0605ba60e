"""bench/ann.py's raw pgvector section: plain tables of halfvec and vector, their HNSW indexes, ef_search sweeps."""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import psycopg
from pgvector import HalfVector, Vector
from pgvector.psycopg import register_vector
from psycopg import sql

from bench import datasets, pg
from ragstore.store import spaces

K = datasets.K
TYPES = {"halfvec": HalfVector, "vector": Vector}
DEFAULT_HNSW = (spaces.HNSW_M, spaces.HNSW_EF_CONSTRUCTION)  # ragstore's m and ef_construction (migration 0014)
PGVECTOR_HNSW = (16, 64)  # pgvector's defaults: ragstore's until migration 0014, and results that name none


def build_raw(dsn: str, vs: datasets.VectorSet, args: argparse.Namespace) -> dict:
    """Both plain tables loaded and indexed with --hnsw: seconds and bytes of each."""
    found: dict = {"hnsw": {"m": args.hnsw[0], "ef_construction": args.hnsw[1]}}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        pg.tune_build(conn, args.maintenance_work_mem, args.parallel_workers)
        for kind in TYPES:
            name = f"items_{kind}"
            pg.say(f"{vs.name}: COPY into {name}")
            load_s = copy_table(conn, name, kind, vs.base)
            pg.say(f"{vs.name}: building the HNSW index of {name}")
            load_before, began = pg.load(), time.perf_counter()
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding {}) WITH (m = {}, ef_construction = {})").format(
                    sql.Identifier(f"{name}_hnsw"),
                    sql.Identifier(name),
                    sql.SQL(f"{kind}_cosine_ops"),
                    sql.Literal(args.hnsw[0]),
                    sql.Literal(args.hnsw[1]),
                )
            )
            build_s = time.perf_counter() - began
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(name)))
            sizes = conn.execute(
                "SELECT pg_relation_size(%s::regclass), pg_table_size(%s::regclass)", (f"{name}_hnsw", name)
            ).fetchone()
            found[kind] = {
                "load_s": load_s,
                "build_s": build_s,
                "index_bytes": sizes[0],
                "table_bytes": sizes[1],
                "load_average_during_build": [load_before, pg.load()],
            }
            pg.say(f"{vs.name}: {name} built in {build_s:.0f} s, index {sizes[0] / 2**20:.0f} MB")
    return found


def copy_table(conn: psycopg.Connection, name: str, kind: str, base: np.ndarray) -> float:
    """A fresh table (id, embedding) of the vectors as `kind`, loaded with COPY binary; the seconds it took."""
    relation = sql.Identifier(name)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(relation))
    conn.execute(
        sql.SQL("CREATE TABLE {} (id int NOT NULL, embedding {}(384) NOT NULL)").format(relation, sql.SQL(kind))
    )
    began = time.perf_counter()
    with conn.cursor().copy(
        sql.SQL("COPY {} (id, embedding) FROM STDIN WITH (FORMAT BINARY)").format(relation)
    ) as copy:
        copy.set_types(["int4", kind])
        for i, vector in enumerate(base):
            copy.write_row((i, TYPES[kind](vector)))
    return time.perf_counter() - began


def connect(dsn: str, ef_search: int) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    register_vector(conn)
    conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
    return conn


def timed_searches(conn: psycopg.Connection, statement: sql.Composed, params: list) -> tuple[list, list[float]]:
    found, times = [], []
    for param in params:
        began = time.perf_counter()
        rows = conn.execute(statement, (param,), prepare=True, binary=True).fetchall()
        times.append((time.perf_counter() - began) * 1000)
        found.append([row[0] for row in rows])
    return found, times


def throughput(dsn: str, statement: sql.Composed, params: list, ef_search: int, clients: int) -> float:
    """Queries per second of `clients` threads, each with its own connection, sharing params."""
    conns = [connect(dsn, ef_search) for _ in range(clients)]
    try:
        for conn in conns:
            conn.execute(statement, (params[0],), prepare=True, binary=True).fetchall()
        start = threading.Barrier(clients + 1)

        def run(conn: psycopg.Connection, part: list) -> None:
            start.wait()
            for param in part:
                conn.execute(statement, (param,), prepare=True, binary=True).fetchall()

        threads = [threading.Thread(target=run, args=(conn, params[i::clients])) for i, conn in enumerate(conns)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        return len(params) / (time.perf_counter() - began)
    finally:
        for conn in conns:
            conn.close()


def sweep(dsn: str, kind: str, vs: datasets.VectorSet, args: argparse.Namespace) -> list[dict]:
    """recall@10, one client's p50/p99 and --clients' QPS at each ef_search, on one plain table."""
    name = f"items_{kind}"
    statement = sql.SQL("SELECT id FROM {} ORDER BY embedding <=> %s LIMIT {}").format(
        sql.Identifier(name), sql.Literal(K)
    )
    params = [TYPES[kind](q) for q in vs.queries]
    with connect(dsn, max(args.ef_search)) as conn:
        pg.read_files(dsn, [name, f"{name}_hnsw"])
        timed_searches(conn, statement, params)
    rows = []
    for ef in args.ef_search:
        with connect(dsn, ef) as conn:
            found, times = timed_searches(conn, statement, params)
        qps = throughput(dsn, statement, params, ef, args.clients)
        rows.append({"ef_search": ef, "recall_at_10": datasets.recall(found, vs.truth), **pg.percentiles(times)})
        rows[-1].update({"qps": qps, "clients": args.clients, "load_average": pg.load()})
        pg.say(f"{vs.name} {kind} ef_search={ef}: {rows[-1]}")
    return rows
