"""HTTP search against the SQL it runs: what do the API, the service and the query embedding add to the query itself?

    .venv/bin/python bench/api.py [--passages 3000] [--queries 100] [--redis-url redis://127.0.0.1:6379/0]
                                  [--no-api-key]

A fresh embedded PostgreSQL gets the first --passages passages of ../shared/data/msmarco/corpus.jsonl, ingested
through ragstore's own pipeline (files of 100 passages, one chunk each, embedded by the local model). Three
`ragstore serve` processes then run against it: one caching query embeddings only (RAGSTORE_CACHE_SEARCH_TTL_SECONDS=0),
one with the default in-process cache, one with the cache in Redis (skipped when Redis does not answer). Queries are
msmarco's 50 and, past those, the first words of other passages, each used once per ranker. For each query, side by
side: the raw search SQL on a psycopg connection with the query's embedding computed beforehand (dense: the exact
scan ragstore uses for stores up to 10k chunks; hybrid: the dense top 100, the query terms' rarity among them and,
for a query with a rare term, BM25's top 100 and the cosines of its extra candidates, as ragstore runs them), as the
database owner (`sql`) and in a transaction as the tenant's role under row-level security (`sql_as_tenant`); the
service's search() in this process (same embedding, no cache, no HTTP); and POST /v1/vector_stores/{id}/search over
a kept-alive connection, with a tenant's API key as a deployment with keys sends it (--no-api-key: none, the default
tenant's open mode): cold (the query never seen), with its embedding cached (results not cached), and with its
results cached (in memory, in Redis). Prints a table of p50/p99 in ms and each median over the SQL's; writes
bench/results/api.json with the machine's CPU count and load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psycopg
import redis
from pgvector import HalfVector
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragstore.config import Settings  # noqa: E402
from ragstore.models import DEFAULT_TENANT  # noqa: E402
from ragstore.runtime import open_runtime  # noqa: E402
from ragstore.service import files, fusion, ingestion, search, stores, tenants  # noqa: E402
from ragstore.store import chunks, embedded  # noqa: E402
from ragstore.store.queries import QUERIES  # noqa: E402
from ragstore.worker import Worker, ingestion_tasks  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco"
PER_FILE, K = 100, 10
RANKERS = {"dense": "none", "hybrid": "auto"}  # ragstore's ranker: the API's ranking_options.ranker
COLUMNS = (
    "sql",
    "sql_as_tenant",
    "service",
    "http_cold",
    "http_embedding_cached",
    "http_cached_memory",
    "http_cached_redis",
)


class FixedEmbedder:
    """Hands search() the query's embedding computed beforehand, as the raw SQL gets it."""

    model, dimension, batch_size, max_tokens = "all-MiniLM-L6-v2", 384, 1, None
    vector = np.zeros(384, np.float32)

    def embed(self, texts):
        return np.stack([self.vector] * len(texts))


def passages(n: int) -> list[dict]:
    lines = (DATA / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()][:n]


def queries(n: int, unused: list[dict]) -> list[str]:
    """msmarco's queries, then the first eight words of passages outside the corpus: n distinct texts."""
    lines = (DATA / "queries.jsonl").read_text(encoding="utf-8").split("\n")
    found = [json.loads(line)["text"] for line in lines if line.strip()]
    found += [" ".join(p["text"].split()[:8]) for p in unused]
    return list(dict.fromkeys(found))[:n]


def ingest(runtime, corpus: list[dict]) -> str:
    store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, "msmarco")
    file_ids = []
    for start in range(0, len(corpus), PER_FILE):
        body = "\n".join(json.dumps(p) for p in corpus[start : start + PER_FILE]).encode()
        file_ids.append(files.upload(runtime.db, DEFAULT_TENANT, f"part{start:05d}.jsonl", io.BytesIO(body)).id)
    ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, file_ids, ingestion.chunking(4096, 0))
    Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain()
    return store.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(database_url: str, data_dir: Path, **env: str) -> tuple[subprocess.Popen, httpx.Client]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTORE_")}
    environ.update(RAGSTORE_DATABASE_URL=database_url, RAGSTORE_DATA_DIR=str(data_dir), RAGSTORE_WORKERS="0", **env)
    server = subprocess.Popen(
        [sys.executable, "-m", "ragstore", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                return server, client
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit("a server exited before it was healthy") from None
            time.sleep(0.1)


def http_search(client: httpx.Client, store_id: str, query: str, ranker: str) -> float:
    """One POST .../search; ranker: the API's ranking_options.ranker. Its latency in ms."""
    body = {"query": query, "max_num_results": K, "ranking_options": {"ranker": ranker}}
    began = time.perf_counter()
    response = client.post(f"/v1/vector_stores/{store_id}/search", json=body)
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    return elapsed * 1000


def sql_search(
    conn: psycopg.Connection,
    store_id: str,
    size: int,
    query: str,
    embedding: np.ndarray,
    ranker: str,
    as_tenant: bool = False,
) -> float:
    """The search SQL alone, as ragstore composes it for an unfiltered search of one store of size chunks (which
    the service reads with the store before ranking): as the owner (no row-level security), or as_tenant in one
    transaction as the application role, which row-level security holds to the tenant (as ragstore runs it)."""
    began = time.perf_counter()
    if not as_tenant:
        _search_sql(conn, store_id, size, query, embedding, ranker)
    else:
        with conn.transaction():
            conn.execute(QUERIES["enter_tenant"], {"tenant_id": DEFAULT_TENANT})
            _search_sql(conn, store_id, size, query, embedding, ranker)
    return (time.perf_counter() - began) * 1000


def _search_sql(
    conn: psycopg.Connection, store_id: str, size: int, query: str, embedding: np.ndarray, ranker: str
) -> None:
    """The statements search._rank runs for an unfiltered search of the store, in its order: dense alone; hybrid,
    the dense top FUSION_DEPTH, the query terms' rarity among them, and only for a query with a rare term the exact
    BM25 top (the MaxScore walk) and the cosines of its extra candidates."""
    exact = sql.SQL(QUERIES["search_chunks_exact"]).format(
        filter=sql.SQL("TRUE"), source=sql.SQL("chunks c"), vector=sql.SQL("c.embedding")
    )
    params = {"tenant_id": DEFAULT_TENANT, "store_ids": [store_id], "embedding": HalfVector(embedding), "threshold": 0}
    if ranker == "dense":
        conn.execute(exact, {**params, "limit": K}).fetchall()
        return
    dense = conn.execute(exact, {**params, "limit": search.FUSION_DEPTH}).fetchall()
    lexical = {**params, "query": query, "language": "english"}
    floor = fusion.rescue_floor(size)
    rarity = conn.execute(
        QUERIES["lexical_rarity"], {**lexical, "cap": floor, "ids": [row["id"] for row in dense]}
    ).fetchone()
    if rarity["documents"] == size and not any(0 < df < floor for df in rarity["dfs"]):
        return  # no rare term: the cosine's order, which the dense list holds
    top = {**lexical, "limit": search.FUSION_DEPTH, "k1": chunks.BM25_K1, "b": chunks.BM25_B, "no_cap": chunks.NO_CAP}
    words = conn.execute(QUERIES["search_chunks_lexical_top"], top).fetchall()
    missing = [row["id"] for row in words if row["id"] not in {r["id"] for r in dense}]
    if missing:
        similarities = sql.SQL(QUERIES["chunk_similarities"]).format(
            source=sql.SQL("chunks c"), vector=sql.SQL("c.embedding")
        )
        conn.execute(similarities, {**params, "ids": missing}).fetchall()


def service_search(db, store_id: str, query: str, embedding: np.ndarray, ranker: str) -> float:
    FixedEmbedder.vector = embedding
    began = time.perf_counter()
    search.search(db, FixedEmbedder(), DEFAULT_TENANT, [store_id], query, k=K, ranker=ranker)
    return (time.perf_counter() - began) * 1000


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": statistics.median(ordered), "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def measure(
    runtime, conn, clients: dict, store_id: str, size: int, texts: list[str], ranker: str
) -> dict[str, list[float]]:
    """Every way of searching, query by query, side by side."""
    times: dict[str, list[float]] = {column: [] for column in COLUMNS[:5]}
    times.update({f"http_{name}": [] for name in ("cached_memory", "cached_redis") if name in clients})
    vectors = list(runtime.embedder.embed(texts))  # unit vectors, as search() makes them
    for text, vector in zip(texts, vectors, strict=True):
        times["http_cold"].append(http_search(clients["embedding_cached"], store_id, text, RANKERS[ranker]))
        times["sql"].append(sql_search(conn, store_id, size, text, vector, ranker))
        times["sql_as_tenant"].append(sql_search(conn, store_id, size, text, vector, ranker, as_tenant=True))
        times["service"].append(service_search(runtime.db, store_id, text, vector, ranker))
        times["http_embedding_cached"].append(http_search(clients["embedding_cached"], store_id, text, RANKERS[ranker]))
        for name in ("cached_memory", "cached_redis"):
            if name in clients:
                http_search(clients[name], store_id, text, RANKERS[ranker])  # fills the cache
                times[f"http_{name}"].append(http_search(clients[name], store_id, text, RANKERS[ranker]))
    return times


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=3000, help="chunks in the store")
    parser.add_argument("--queries", type=int, default=100, help="distinct queries per ranker")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="'' to leave Redis out")
    parser.add_argument(
        "--api-key", action=argparse.BooleanOptionalAction, default=True, help="send a tenant's API key"
    )
    args = parser.parse_args()
    before = machine()
    corpus = passages(args.passages + 2 * args.queries)
    texts = queries(2 * args.queries + 1, corpus[args.passages :])
    if len(texts) < 2 * args.queries:
        raise SystemExit(f"only {len(texts)} distinct queries: ask for fewer")
    folder = Path(tempfile.mkdtemp(prefix="ragstore-bench-"))
    database_url = embedded.start(folder / "pgdata")
    settings = Settings(database_url=database_url, data_dir=folder)
    runtime = open_runtime(settings)
    servers: list[subprocess.Popen] = []
    try:
        began = time.perf_counter()
        store_id = ingest(runtime, corpus[: args.passages])
        ingest_s = time.perf_counter() - began
        with runtime.db.connection() as conn:
            conn.execute("VACUUM ANALYZE chunks")
            chunk_count = conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]
        variants = {"embedding_cached": {"RAGSTORE_CACHE_SEARCH_TTL_SECONDS": "0"}, "cached_memory": {}}
        if args.redis_url and redis_answers(args.redis_url):
            variants["cached_redis"] = {"RAGSTORE_REDIS_URL": args.redis_url}
        clients = {}
        secret = tenants.create_key(runtime.db, DEFAULT_TENANT, "bench")[1] if args.api_key else None
        for name, env in variants.items():
            server, clients[name] = serve(database_url, folder, **env)
            servers.append(server)
            if secret:
                clients[name].headers["Authorization"] = f"Bearer {secret}"
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
            # The owner's session names the tenant once: BM25's candidates function reads it (migration 0013).
            conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (DEFAULT_TENANT,))
            register_vector(conn)
            for client in clients.values():  # warm-up: connections, the model's first call
                http_search(client, store_id, "warm up", RANKERS["hybrid"])
            results = {}
            for i, ranker in enumerate(RANKERS):
                times = measure(runtime, conn, clients, store_id, chunk_count, texts[i::2][: args.queries], ranker)
                results[ranker] = {column: summary(values) for column, values in times.items()}
                results[ranker]["all_ms"] = times
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        runtime.close()
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "machine": {"before": before, "after": machine()},
        "passages": args.passages,
        "chunks": chunk_count,
        "files": -(-args.passages // PER_FILE),
        "queries_per_ranker": args.queries,
        "api_key": args.api_key,
        "k": K,
        "ingest_s": ingest_s,
        "results": results,
    }
    print_table(report)
    out = Path(__file__).parent / "results" / "api.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


def print_table(report: dict) -> None:
    load = report["machine"]["before"]["load_average"]
    print(
        f"{report['chunks']} chunks in {report['files']} files (ingested in {report['ingest_s']:.0f} s), "
        f"{report['queries_per_ranker']} queries per ranker, k={report['k']}, API key {report['api_key']}; "
        f"{report['machine']['before']['cpus']} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'ranker':<7} {'search':<22} {'p50 ms':>8} {'p99 ms':>8} {'p50 / sql':>10}")
    for ranker, row in report["results"].items():
        for column in COLUMNS:
            if column in row:
                ratio = row[column]["p50_ms"] / row["sql"]["p50_ms"]
                print(
                    f"{ranker:<7} {column:<22} {row[column]['p50_ms']:>8.2f} {row[column]['p99_ms']:>8.2f}"
                    f" {ratio:>10.2f}"
                )


if __name__ == "__main__":
    main()
