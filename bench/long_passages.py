"""Hybrid against dense search through the API on long passages: what BM25 costs when chunks hold ~200 words and
queries are claims of 10-20 words.

    .venv/bin/python bench/long_passages.py [--sizes 5000 100000] [--queries 100] [--baseline /path/to/checkout]

The data is built here, seeded, from ../shared/data/msmarco and never stored: msmarco's 5,000 passages in a seeded
order, consecutive ones joined until a passage holds at least 200 words (a new seeded order each time the passages
run out, so every long passage is a different combination); the queries are claims: a sentence of 10+ words from a
random long passage of the store, cut to a seeded 10 to 20 of its words. Each size is a database of its own on one
embedded PostgreSQL, the default tenant holding one store; msmarco's own short passages (5,000, with claims drawn
the same way) are a third. Chunks are written straight into the tables (as tests/support/synthetic.py does) with
what ingestion writes for BM25: the text, its tsvector (`fts`), lexical_length and the file's lexical_tokens; their
vectors are clustered synthetic ones (embedding 100k passages would take an hour here), which a dense search costs
the same as real ones. The HNSW index is built after the load; stores up to 10k chunks are scanned exactly.

For each database a `ragstore serve` of this checkout (and with --baseline one of that checkout, e.g. a worktree
of main, on the same database) gets POST /v1/vector_stores/{id}/search with ranking_options.ranker none (dense)
and auto (hybrid), max_num_results 10, the query embedding cached (each query sent once before): query by query,
alternating servers and rankers. Prints p50/p99 in ms and hybrid over dense; writes bench/results/long_passages.json
with the machine's CPU count and load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
from pgvector import HalfVector
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import pg  # noqa: E402
from bench.api import http_search, serve  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.models import DEFAULT_TENANT  # noqa: E402
from ragstore.service import fusion  # noqa: E402
from ragstore.store import chunks, embedded  # noqa: E402
from ragstore.store.db import open_database  # noqa: E402
from tests.support import synthetic  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco"
RESULTS = Path(__file__).parent / "results"
SEED, WORDS = 24, 200
STORE = "vs_long"
# ragstore's rankers, as the API's ranking_options.ranker names them.
RANKERS = {"dense": "none", "hybrid": "auto", "lexical": "lexical"}
K = 10


def source() -> list[str]:
    lines = (DATA / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line)["text"] for line in lines if line.strip()]


def long_passages(n: int, texts: list[str], seed: int = SEED, words: int = WORDS) -> list[str]:
    """n passages of at least `words` words: msmarco's passages joined in seeded orders."""
    rng, order, found = random.Random(seed), [], []
    while len(found) < n:
        piece, count = [], 0
        while count < words:
            if not order:
                order = list(range(len(texts)))
                rng.shuffle(order)
            text = texts[order.pop()]
            piece.append(text)
            count += len(text.split())
        found.append(" ".join(piece))
    return found


def claims(passages: list[str], n: int, seed: int = SEED) -> list[str]:
    """n distinct claims of 10-20 words, each cut from a sentence of 10+ words of a random passage."""
    rng, found = random.Random(seed + 1), {}
    while len(found) < n:
        sentences = [s.split() for s in re.split(r"(?<=[.!?])\s+", rng.choice(passages))]
        sentences = [s for s in sentences if len(s) >= 10]
        if not sentences:
            continue
        sentence = rng.choice(sentences)
        size = min(len(sentence), rng.randint(10, 20))
        start = rng.randint(0, len(sentence) - size)
        found[" ".join(sentence[start : start + size])] = None
    return list(found)


LOAD = """
INSERT INTO chunks (tenant_id, vector_store_id, file_id, chunk_index, text, token_count, content_hash, embedding,
                    fts, lexical_length)
SELECT %(tenant)s, %(store)s, %(file)s, s.i, s.text, 1, '', s.embedding, to_tsvector('english', s.text),
       (SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::int
        FROM unnest(to_tsvector('english', s.text)))
FROM staging s
"""


def load(conn: psycopg.Connection, texts: list[str], vectors: np.ndarray) -> None:
    """The default tenant's store of one completed file holding these chunks, as ingestion writes them for BM25."""
    file_id = synthetic.create_store(conn, DEFAULT_TENANT, STORE, len(texts))
    conn.execute("CREATE TEMP TABLE staging (i int, text text, embedding halfvec(384))")
    with conn.cursor().copy("COPY staging FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "text", "halfvec"])
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
            copy.write_row((i, text, HalfVector(vector)))
    conn.execute(LOAD, {"tenant": DEFAULT_TENANT, "store": STORE, "file": file_id})
    conn.execute(
        "UPDATE vector_store_files v SET lexical_tokens = (SELECT sum(lexical_length) FROM chunks c "
        "WHERE c.tenant_id = v.tenant_id AND c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id) "
        "WHERE tenant_id = %s AND vector_store_id = %s",
        (DEFAULT_TENANT, STORE),
    )
    conn.execute("DROP TABLE staging")


def build(url: str, name: str, folder: Path, texts: list[str]) -> str:
    """Database `name` migrated by ragstore, holding the store, indexed and analysed; its URL."""
    dsn = pg.database(url, name)
    open_database(Settings(database_url=dsn, data_dir=folder)).close()  # migrations
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        register_vector(conn)
        definition = conn.execute("SELECT pg_get_indexdef('chunks_embedding'::regclass) AS d").fetchone()["d"]
        conn.execute("DROP INDEX chunks_embedding")
        vectors = synthetic.clustered(np.random.default_rng(SEED), len(texts))
        with conn.transaction():
            load(conn, texts, vectors)
        pg.tune_build(conn, "1GB", 1)
        conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
        conn.execute("VACUUM ANALYZE")
    return dsn


@contextlib.contextmanager
def servers(dsn: str, folder: Path, baseline: Path | None) -> Iterator[dict]:
    """`ragstore serve` of this checkout ("new") and of --baseline ("old"), caching query embeddings only."""
    started, clients = [], {}
    here = Path.cwd()
    try:
        for label, root in [("new", Path(__file__).resolve().parents[1]), ("old", baseline)]:
            if root is None:
                continue
            os.chdir(root)  # `python -m ragstore` imports the package of its working directory first
            try:
                server, clients[label] = serve(dsn, folder, RAGSTORE_CACHE_SEARCH_TTL_SECONDS="0", PYTHONPATH=str(root))
            finally:
                os.chdir(here)
            started.append(server)
        yield clients
    finally:
        for server in started:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)


def measure(clients: dict, queries: list[str], lexical: int) -> dict[str, dict[str, list[float]]]:
    """Every query once per server and ranker, alternating (the lexical ranker on the first `lexical` only); ms."""
    times: dict[str, dict[str, list[float]]] = {label: {r: [] for r in RANKERS} for label in clients}
    for client in clients.values():
        for query in queries:  # the embedding cache filled, the model warm
            http_search(client, STORE, query, RANKERS["dense"])
    for i, query in enumerate(queries):
        for label, client in clients.items():
            for ranker in RANKERS:
                if ranker != "lexical" or i < lexical:
                    times[label][ranker].append(http_search(client, STORE, query, RANKERS[ranker]))
    return times


def summary(times: dict[str, dict[str, list[float]]]) -> dict:
    found = {}
    for label, rows in times.items():
        found[label] = {ranker: pg.percentiles(values) for ranker, values in rows.items() if values}
        found[label]["hybrid_over_dense_p50"] = found[label]["hybrid"]["p50_ms"] / found[label]["dense"]["p50_ms"]
        ratios = [h / d for h, d in zip(rows["hybrid"], rows["dense"], strict=True)]
        found[label]["median_pairwise_ratio"] = statistics.median(ratios)
    return found


def rare_share(dsn: str, queries: list[str], chunk_count: int) -> float:
    """The share of queries holding a term rare enough for the default hybrid ranker to weigh BM25."""
    floor = fusion.rescue_floor(chunk_count)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (DEFAULT_TENANT,))
        found = [chunks.lexical_rarity(conn, DEFAULT_TENANT, [STORE], q, floor)[0] for q in queries]
    return statistics.fmean(any(0 < df < floor for df in dfs) for dfs in found)


def collections(sizes: list[int], short: bool) -> dict[str, list[str]]:
    texts = source()
    found = {f"long_{n}": long_passages(n, texts) for n in sizes}
    if short:
        found["short_5000"] = texts
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100000], help="long passages per store")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--lexical-queries", type=int, default=20, help="of those, how many the lexical ranker gets")
    parser.add_argument("--no-short", dest="short", action="store_false", help="skip msmarco's own passages")
    parser.add_argument("--baseline", type=Path, help="another checkout of ragstore, served side by side")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lexical-long-"))
    url = embedded.start(folder / "pgdata")
    report: dict = {"machine": pg.machine(), "postgres": pg.versions(url), "collections": {}}
    try:
        for name, texts in collections(args.sizes, args.short).items():
            pg.say(f"{name}: loading {len(texts)} passages")
            dsn = build(url, name, folder, texts)
            queries = claims(texts, args.queries)
            with servers(dsn, folder, args.baseline) as clients:
                began = pg.load()
                times = measure(clients, queries, args.lexical_queries)
            words = statistics.median(len(t.split()) for t in texts)
            report["collections"][name] = {
                "chunks": len(texts),
                "median_words": words,
                "median_query_words": statistics.median(len(q.split()) for q in queries),
                "queries": len(queries),
                "rare_share": rare_share(dsn, queries, len(texts)),
                "load_average": [began, pg.load()],
                "results": summary(times),
                "all_ms": times,
            }
            pg.say(f"{name}: {report['collections'][name]['results']}")
    finally:
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    report["machine_after"] = pg.machine()
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "long_passages.json").write_text(json.dumps(report, indent=2))


def print_table(report: dict) -> None:
    m = report["machine"]
    print(f"{m['cpus']} CPUs ({m['cpu_model']}), load average {m['load_average']}")
    head = f"{'dense p50':>9} {'p99':>7} {'hybrid p50':>10} {'p99':>7} {'ratio':>6} {'lexical p50':>11} {'p99':>7}"
    print(f"{'collection':<12} {'words':>5} {'rare':>5} {'code':<4} {head}")
    for name, row in report["collections"].items():
        for label, r in row["results"].items():
            print(
                f"{name:<12} {row['median_words']:>5.0f} {row['rare_share']:>5.2f} {label:<4} "
                f"{r['dense']['p50_ms']:>9.2f} {r['dense']['p99_ms']:>7.2f} {r['hybrid']['p50_ms']:>10.2f} "
                f"{r['hybrid']['p99_ms']:>7.2f} {r['hybrid_over_dense_p50']:>6.2f} "
                f"{r['lexical']['p50_ms']:>11.2f} {r['lexical']['p99_ms']:>7.2f}"
            )


if __name__ == "__main__":
    main()
