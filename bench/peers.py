"""ragstore beside its peers: the same vectors and queries in ragstore, Chroma, LanceDB and FAISS, side by side.

    .venv/bin/pip install -r bench/requirements-peers.txt   # lancedb and faiss-cpu, for this benchmark only
    .venv/bin/python bench/peers.py [--clustered 100000] [--clustered-queries 1000] [--real 20000]
                                    [--real-queries 500] [--engines ragstore,chroma,...] [--warmup 20]

Sets (bench/datasets.py): seeded clustered 384-d unit vectors, and the local model's embeddings of msmarco sentence
windows; --clustered 0 or --real 0 leaves a set out. Each engine gets the same float32 vectors, is timed loading
them (and building its index), is warmed with a few base vectors as queries, then answers the set's queries one at a
time from this single thread: recall@10 against the exact top-10 by cosine, p50 and p99 latency per query. Each
engine runs alone (the previous one closed and its files deleted), in a temp dir. Prints one table per set and
writes bench/results/peers.json with the machine, its load average and every engine's version.

The engines, each at its documented defaults except for the cosine metric:
- ragstore: one store in a fresh embedded PostgreSQL + pgvector, loaded with COPY into the chunks table (its halfvec
  HNSW index, m=16, ef_construction=64, is built as the rows arrive, as when a user ingests), searched through
  ragstore.service.search.search with a stub query embedder that returns the query vector: a tenant transaction,
  row-level security, the store's chunk count, then an exact scan up to search.EXACT_MAX_CHUNKS (10k) chunks and the
  HNSW walk (hnsw.ef_search = chunks.EF_SEARCH, 100) above. Both default sets are above 10k, so this is the HNSW path.
  It stores halfvec (float16), so even its exact scan can order near-ties differently from the float32 truth
  (recall@10 0.993 on clustered 2k, all exact, in a trial).
- chroma: PersistentClient, one collection with configuration hnsw space cosine (defaults: max_neighbors 16,
  ef_construction 100, ef_search 100), added in batches of the client's maximum batch size.
- lancedb-flat: one table, no index: LanceDB's default search then is a flat (exact) scan by cosine.
- lancedb-ivfpq: the same table plus LanceDB's default vector index, IVF_PQ by cosine at its defaults
  (sqrt(n) partitions, dim/16 = 24 sub-vectors of 8 bits, 20 probes, no refine step): approximate. Its results are
  ordered by the PQ codes alone, which costs most of the recall (more probes changed nothing in a trial: 0.134 at 20
  and at 60 probes on clustered 100k), so a second row, lancedb-ivfpq-r10, queries the same index with
  refine_factor 10 (LanceDB's documented knob: 100 candidates re-ranked by their full vectors).
- faiss-flat: IndexFlatIP on the unit vectors, in memory: exact, the recall 1.0 reference and a speed floor. Its
  OpenMP pool is set to one thread: one query at a time gains nothing from a second one on this 2-core machine shared
  with other work, and its spinning workers made a single query ~6x slower (p50 152 ms against 24 ms at 100k).

Every other engine runs with its own threading as shipped: PostgreSQL answers a query in one backend process, Chroma's
HNSW walks one query in one thread, and LanceDB may spread a flat scan over its runtime's threads.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgvector.psycopg import register_vector  # noqa: E402

from bench import pg  # noqa: E402
from bench.datasets import K, VectorSet, clustered, real, recall  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.service import search  # noqa: E402
from ragstore.store import chunks, embedded  # noqa: E402
from ragstore.store.db import open_database, server_info  # noqa: E402
from tests.support.synthetic import load_store  # noqa: E402

REQUIREMENTS = "bench/requirements-peers.txt"
ENGINES = ("ragstore", "chroma", "lancedb-flat", "lancedb-ivfpq", "faiss-flat")
# The module each peer imports, and the package (in REQUIREMENTS) that brings it.
MODULES = {
    "chroma": ("chromadb", "chromadb"),
    "lancedb-flat": ("lancedb", "lancedb"),
    "lancedb-ivfpq": ("lancedb", "lancedb"),
    "faiss-flat": ("faiss", "faiss-cpu"),
}
TENANT, STORE = "bench_peers", "vs_peers"
REFINE = 10  # LanceDB IVF_PQ's second row: k x REFINE candidates re-ranked exactly


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class Engine:
    """Loads the vectors once; each variant is a query-time setting on them, measured as its own row."""

    name = ""
    settings_note = ""

    def search(self, query: np.ndarray) -> list[int]:
        raise NotImplementedError

    def variants(self) -> dict[str, tuple[str, Callable[[np.ndarray], list[int]]]]:
        return {self.name: (self.settings_note, self.search)}


class Ragstore(Engine):
    """One store in a fresh embedded PostgreSQL, searched through ragstore's own search."""

    name = "ragstore"

    def __init__(self, folder: Path) -> None:
        self.settings = Settings(data_dir=folder)
        try:
            self.db = open_database(self.settings)
        except BaseException:
            embedded.stop(self.settings.pgdata)
            raise
        self.embedder = pg.QueryEmbedder()
        self.settings_note = (
            f"halfvec HNSW m=16 ef_construction=64, ef_search={chunks.EF_SEARCH}; "
            f"exact up to {search.EXACT_MAX_CHUNKS} chunks"
        )

    def load(self, base: np.ndarray) -> None:
        with self.db.connection() as conn:
            register_vector(conn)
            load_store(conn, TENANT, STORE, base)
            conn.execute("VACUUM ANALYZE chunks")

    def search(self, query: np.ndarray) -> list[int]:
        self.embedder.query = query
        hits = search.search(self.db, self.embedder, TENANT, [STORE], "q", k=K)
        return [hit.chunk_index for hit in hits]

    def disk_bytes(self) -> int:
        """The chunks table's partitions with their indexes (one tenant, so all of it is this store)."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT sum(pg_total_relation_size(inhrelid))::bigint AS n FROM pg_inherits "
                "WHERE inhparent = 'chunks'::regclass"
            ).fetchone()
        return int(row["n"])

    def versions(self) -> dict[str, str]:
        with self.db.connection() as conn:
            info = server_info(conn, self.db.url)
        return {
            "ragstore": importlib.metadata.version("ragstore"),
            "postgresql": info.server_version,
            "pgvector": info.pgvector_version,
        }

    def close(self) -> None:
        self.db.close()
        embedded.stop(self.settings.pgdata)


class Chroma(Engine):
    name = "chroma"

    def __init__(self, folder: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.folder = folder
        self.client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
        self.collection = self.client.create_collection(
            "peers", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        hnsw = self.collection.configuration["hnsw"]
        self.settings_note = (
            f"HNSW max_neighbors={hnsw['max_neighbors']} ef_construction={hnsw['ef_construction']} "
            f"ef_search={hnsw['ef_search']}"
        )

    def load(self, base: np.ndarray) -> None:
        step = self.client.get_max_batch_size()
        for start in range(0, len(base), step):
            part = base[start : start + step]
            self.collection.add(ids=[str(i) for i in range(start, start + len(part))], embeddings=part)

    def search(self, query: np.ndarray) -> list[int]:
        found = self.collection.query(query_embeddings=[query], n_results=K, include=[])
        return [int(i) for i in found["ids"][0]]

    def disk_bytes(self) -> int:
        return folder_bytes(self.folder)

    def versions(self) -> dict[str, str]:
        import chromadb

        return {"chromadb": chromadb.__version__}

    def close(self) -> None:
        # chromadb has no close; dropping the client lets its files go.
        del self.collection, self.client


class LanceFlat(Engine):
    name = "lancedb-flat"
    settings_note = "no index: flat scan by cosine"

    def __init__(self, folder: Path) -> None:
        import lancedb

        self.folder = folder
        self.db = lancedb.connect(str(folder))
        self.table = None

    def load(self, base: np.ndarray) -> None:
        import pyarrow as pa

        data = pa.table(
            {
                "id": pa.array(np.arange(len(base), dtype=np.int32)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(base.ravel()), base.shape[1]),
            }
        )
        self.table = self.db.create_table("peers", data=data)

    def search(self, query: np.ndarray) -> list[int]:
        found = self.table.search(query).distance_type("cosine").limit(K).select(["id", "_distance"]).to_arrow()
        return found.column("id").to_pylist()

    def disk_bytes(self) -> int:
        return folder_bytes(self.folder)

    def versions(self) -> dict[str, str]:
        import lancedb
        import pyarrow

        return {"lancedb": lancedb.__version__, "pyarrow": pyarrow.__version__}

    def close(self) -> None:
        self.table = None


class LanceIvfPq(LanceFlat):
    name = "lancedb-ivfpq"

    def load(self, base: np.ndarray) -> None:
        from lancedb.index import IvfPq

        super().load(base)
        self.table.create_index("vector", config=IvfPq(distance_type="cosine"))
        details = self.table.list_indices()[0]
        stats = self.table.index_stats(details.name)
        pq = details.index_details.get("compression", {}) if details.index_details else {}
        self.settings_note = (
            f"{stats.index_type} cosine, {round(len(base) ** 0.5)} partitions (sqrt n), "
            f"{pq.get('num_sub_vectors', '?')} sub-vectors x {pq.get('num_bits', '?')} bits, 20 probes"
        )

    def variants(self) -> dict[str, tuple[str, Callable[[np.ndarray], list[int]]]]:
        """Its defaults (no refine step: the order comes from the PQ codes alone), and with LanceDB's documented
        recall knob, refine_factor: REFINE x k candidates re-ranked by their full vectors."""
        return {
            self.name: (f"{self.settings_note}, no refine", self.search),
            f"{self.name}-r{REFINE}": (f"the same index, refine_factor {REFINE}", self.search_refined),
        }

    def search_refined(self, query: np.ndarray) -> list[int]:
        found = self.table.search(query).distance_type("cosine").limit(K).refine_factor(REFINE)
        return found.select(["id", "_distance"]).to_arrow().column("id").to_pylist()


class FaissFlat(Engine):
    name = "faiss-flat"
    settings_note = "IndexFlatIP, in memory, exact, 1 OpenMP thread"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index = None

    def load(self, base: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(1)
        self.index = faiss.IndexFlatIP(base.shape[1])
        self.index.add(base)

    def search(self, query: np.ndarray) -> list[int]:
        _, found = self.index.search(query[None, :], K)
        return found[0].tolist()

    def disk_bytes(self) -> int:
        """The index written to a file (it lives in memory; this is what saving it costs)."""
        import faiss

        path = self.folder / "flat.faiss"
        self.folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(path))
        return path.stat().st_size

    def versions(self) -> dict[str, str]:
        import faiss

        return {"faiss": faiss.__version__}

    def close(self) -> None:
        self.index = None


CLASSES = {cls.name: cls for cls in (Ragstore, Chroma, LanceFlat, LanceIvfPq, FaissFlat)}


def check_installed(engines: list[str]) -> None:
    """A clear stop, naming the requirements file, when a peer's package is missing."""
    missing = []
    for engine in engines:
        module, package = MODULES.get(engine, (None, None))
        if module and package not in missing:
            try:
                __import__(module)
            except ImportError:
                missing.append(package)
    if missing:
        raise SystemExit(
            f"bench/peers.py needs {', '.join(missing)} (see {REQUIREMENTS}): .venv/bin/pip install -r {REQUIREMENTS}"
        )


def run_engine(name: str, vectors: VectorSet, warmup: int) -> dict[str, dict]:
    """Load one engine in a temp dir of its own, then warm and query each of its variants (query-time settings on
    the same data); close it and delete the dir. One row per variant."""
    folder = Path(tempfile.mkdtemp(prefix=f"ragstore-peers-{name}-"))
    try:
        engine = CLASSES[name](folder / "data")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    rows = {}
    try:
        began = time.perf_counter()
        engine.load(vectors.base)
        load_s = time.perf_counter() - began
        disk, versions = engine.disk_bytes(), engine.versions()
        for row, (settings, search) in engine.variants().items():
            rows[row] = {"settings": settings, "load_s": load_s, "disk_bytes": disk, **measure(search, vectors, warmup)}
            rows[row]["versions"] = versions
            print(
                f"  {row:<17} load {load_s:7.1f} s  recall@10 {rows[row]['recall_at_10']:.3f}  "
                f"p50 {rows[row]['p50_ms']:7.2f} ms  p99 {rows[row]['p99_ms']:7.2f} ms",
                flush=True,
            )
    finally:
        engine.close()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def measure(search: Callable[[np.ndarray], list[int]], vectors: VectorSet, warmup: int) -> dict:
    """Warm with base vectors as queries, then the set's queries one at a time: recall@10 and latency."""
    for vector in vectors.base[:warmup]:
        search(vector)
    latencies, found = [], []
    for query in vectors.queries:
        began = time.perf_counter()
        ids = search(query)
        latencies.append((time.perf_counter() - began) * 1000)
        found.append(ids)
    return {
        "recall_at_10": recall(found, vectors.truth),
        **pg.percentiles(latencies),
        "mean_ms": statistics.mean(latencies),
        "short_answers": sum(len(ids) < K for ids in found),
    }


def machine() -> dict:
    """bench/pg.py's CPUs, memory and load average, and the software around the engines."""
    return {
        **pg.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def print_table(name: str, found: dict) -> None:
    print(f"\n{name}: {found['base']} vectors, {found['queries']} queries, k={K}, one query at a time")
    print(f"{'engine':<17} {'load s':>8} {'disk MB':>8} {'recall@10':>10} {'p50 ms':>8} {'p99 ms':>8}  settings")
    for engine, row in found["engines"].items():
        print(
            f"{engine:<17} {row['load_s']:>8.1f} {row['disk_bytes'] / 2**20:>8.1f} {row['recall_at_10']:>10.3f}"
            f" {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}  {row['settings']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clustered", type=int, default=100_000, help="clustered base vectors (0: leave out)")
    parser.add_argument("--clustered-queries", type=int, default=1000)
    parser.add_argument("--real", type=int, default=20_000, help="msmarco embeddings (0: leave out)")
    parser.add_argument("--real-queries", type=int, default=500)
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}")
    parser.add_argument("--warmup", type=int, default=20, help="queries (base vectors) each engine answers first")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "peers.json")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in CLASSES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}: choose from {', '.join(ENGINES)}")
    check_installed(engines)

    sets = []
    if args.clustered:
        sets.append(lambda: clustered(args.clustered, args.clustered_queries))
    if args.real:
        sets.append(lambda: real(args.real, args.real_queries))
    began = time.time()
    report: dict = {"machine": machine(), "load_average_before": list(os.getloadavg()), "sets": {}}
    for make in sets:
        vectors = make()
        print(f"{vectors.name}: {len(vectors.base)} vectors, {len(vectors.queries)} queries", flush=True)
        load_before = list(os.getloadavg())
        rows = {row: found for name in engines for row, found in run_engine(name, vectors, args.warmup).items()}
        report["sets"][vectors.name] = {
            "base": len(vectors.base),
            "queries": len(vectors.queries),
            "load_average_before": load_before,
            "load_average_after": list(os.getloadavg()),
            "engines": rows,
        }
    report["load_average_after"] = list(os.getloadavg())
    report["seconds"] = time.time() - began
    report["versions"] = {
        key: value
        for found in report["sets"].values()
        for row in found["engines"].values()
        for key, value in row["versions"].items()
    }

    info = report["machine"]
    print(f"\nmachine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gb']} GB RAM, {info['platform']}")
    for name, found in report["sets"].items():
        print_table(name, found)
        print(f"load average before / after: {fmt(found['load_average_before'])} / {fmt(found['load_average_after'])}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


def fmt(load: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


if __name__ == "__main__":
    main()
