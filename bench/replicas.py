"""Read replicas: search QPS and p99 with 8 clients on the primary alone, then on primary + one streaming standby, and
the standby's replay lag while uploads are ingested alongside the searches.

    .venv/bin/python bench/replicas.py [--clients 8] [--seconds 15] [--passages 1000]

A fresh embedded PostgreSQL 18 in a temporary directory and a hot standby made from it by pg_basebackup -R
(ragstore/store/standby.py), both on this machine. One store of --passages msmarco passages (files of 20) is
ingested with the real model. Then, for --seconds each, --clients threads loop on `search.search` (hybrid ranker, 10
results; query embeddings cached, results not, so that each search runs its statements):
1. primary: a Database without replicas;
2. standby: the same Database with the standby as its replica (reads go there; writes none);
3. standby + uploads: as 2, with one thread uploading and ingesting files of 20 new passages without pause; the
   standby's lag is sampled every 100 ms from the primary's pg_stat_replication (replay_lag, PostgreSQL's own
   measure) and as WAL bytes not yet replayed.
Prints a table; writes bench/results/replicas.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ragstore import telemetry
from ragstore.cache import QueryCache
from ragstore.cache.backends import MemoryBackend
from ragstore.ingest.chunk import AUTO
from ragstore.ingest.embed import LocalEmbedder, default_chunker
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, ingestion, search, stores
from ragstore.store import embedded, migrate, standby
from ragstore.store.db import Database
from ragstore.worker import Worker, ingestion_tasks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco"
RESULTS = Path(__file__).parent / "results"
PER_FILE = 20


def passages(count: int, skip: int = 0) -> list[str]:
    found = []
    with (DATA / "corpus.jsonl").open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n >= skip + count:
                break
            if n >= skip:
                found.append(json.loads(line)["text"])
    return found


def queries() -> list[str]:
    return [json.loads(line)["text"] for line in (DATA / "queries.jsonl").open(encoding="utf-8") if line.strip()][:50]


def upload(db: Database, embedder: LocalEmbedder, store: Any, texts: list[str], name: str) -> None:
    data = "\n\n".join(texts).encode()
    file_id = files.upload(db, DEFAULT_TENANT, name, io.BytesIO(data)).id
    ingestion.create_batch(db, DEFAULT_TENANT, store, [file_id], AUTO, None)
    Worker(db, ingestion_tasks(db, embedder, default_chunker())).drain()


def load(db: Database, embedder: LocalEmbedder, store_id: str, clients: int, seconds: float) -> dict[str, Any]:
    """clients threads searching for seconds: count, QPS, p50/p99 in ms, errors."""
    cache = QueryCache(MemoryBackend(), embedding_ttl=3600, search_ttl=0)
    texts = queries()
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            started = time.perf_counter()
            try:
                search.search(
                    db, embedder, DEFAULT_TENANT, [store_id], rng.choice(texts), k=10, ranker="hybrid", cache=cache
                )
            except Exception as exc:
                errors.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - started)

    for text in texts:  # embeddings cached before the clock starts
        cache.embed(embedder, [text])
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "searches": len(ordered),
        "qps": round(len(ordered) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
        "errors": len(errors),
    }


def sample_lag(primary_url: str, standby_url: str, stop: threading.Event, found: dict[str, list[float]]) -> None:
    with psycopg.connect(primary_url, autocommit=True) as primary, psycopg.connect(standby_url, autocommit=True) as rep:
        while not stop.wait(0.1):
            lag = primary.execute(
                "SELECT extract(epoch FROM replay_lag)::float8, pg_current_wal_lsn()::text FROM pg_stat_replication"
            ).fetchone()
            replayed = rep.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
            if lag is None or replayed is None:
                continue
            found["replay_lag_s"].append(lag[0] or 0.0)
            behind = primary.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (lag[1], replayed[0])).fetchone()
            found["bytes"].append(max(0.0, float(behind[0])) if behind else 0.0)


def with_uploads(
    db: Database, embedder: LocalEmbedder, store: Any, urls: tuple[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    stop = threading.Event()
    uploaded = {"files": 0}
    lag: dict[str, list[float]] = {"replay_lag_s": [], "bytes": []}

    def uploader() -> None:
        n = 0
        while not stop.is_set():
            upload(db, embedder, store, passages(PER_FILE, skip=args.passages + n * PER_FILE), f"new-{n}.txt")
            n += 1
            uploaded["files"] = n

    threads = [threading.Thread(target=uploader), threading.Thread(target=sample_lag, args=(*urls, stop, lag))]
    for thread in threads:
        thread.start()
    result = load(db, embedder, store.id, args.clients, args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    result["files_ingested"] = uploaded["files"]
    for name, values in lag.items():
        ordered = sorted(values) or [0.0]
        result[f"lag_{name}_p50"] = round(statistics.median(ordered), 3)
        result[f"lag_{name}_max"] = round(ordered[-1], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--passages", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rs-bench-rep-"))
    primary = embedded.start(folder / "pgdata")
    try:
        with psycopg.connect(primary, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
            migrate.apply(conn)
        embedder = LocalEmbedder("all-MiniLM-L6-v2", batch_size=32)
        db = Database(primary, pool_size=args.clients + 2)
        db.open()
        store = stores.create(db, DEFAULT_TENANT, embedder, "msmarco")
        started = time.perf_counter()
        texts = passages(args.passages)
        for n in range(0, len(texts), PER_FILE):
            upload(db, embedder, store, texts[n : n + PER_FILE], f"msmarco-{n // PER_FILE}.txt")
        print(f"ingested {len(texts)} passages in {time.perf_counter() - started:.0f} s")
        results = {"primary": load(db, embedder, store.id, args.clients, args.seconds)}
        db.close()
        standby.create(Path(str(conninfo_to_dict(primary)["host"])), folder / "standby")
        replica = standby.url(standby.start(folder / "standby"), "postgres")
        db = Database(primary, pool_size=args.clients + 2, replica_urls=[replica])
        db.open()
        before = telemetry.DATABASE_READS.labels("replica1", "replica")._value.get()
        results["standby"] = load(db, embedder, store.id, args.clients, args.seconds)
        results["standby"]["on_standby"] = int(
            telemetry.DATABASE_READS.labels("replica1", "replica")._value.get() - before
        )
        results["standby_uploads"] = with_uploads(db, embedder, store, (primary, replica), args)
        db.close()
    finally:
        standby.stop(folder / "standby")
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    machine = {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    report = {
        "machine": machine,
        "clients": args.clients,
        "seconds": args.seconds,
        "passages": args.passages,
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replicas.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'run':<18}{'searches':>9}{'QPS':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}")
    for name in ("primary", "standby", "standby_uploads"):
        r = results[name]
        print(f"{name:<18}{r['searches']:>9}{r['qps']:>8}{r['p50_ms']:>8}{r['p99_ms']:>8}{r['errors']:>7}")
    print(json.dumps({k: v for k, v in results["standby_uploads"].items() if k.startswith(("lag", "files"))}))


if __name__ == "__main__":
    main()
