"""Ingestion speed: chunks per second end to end (upload, parse, chunk, embed, store) against the model alone.

    .venv/bin/python bench/ingest.py [--files 40] [--chunks-per-file 8] [--backends onnx-int8,torch]

Files of msmarco passages (../shared/data/msmarco) joined into ~200-token chunks, ingested by ragstore's own
pipeline (files.upload, a file batch, a worker draining the jobs) into a fresh embedded PostgreSQL; then the same
chunks' texts through the embedder alone, in the same run, for the ratio. One row per embedding backend. Prints a
table; writes bench/results/ingest.json with the machine's CPU count and load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragstore.config import Settings  # noqa: E402
from ragstore.ingest.chunk import ChunkingStrategy  # noqa: E402
from ragstore.ingest.embed import create_embedder, embed_chunks  # noqa: E402
from ragstore.models import DEFAULT_TENANT  # noqa: E402
from ragstore.runtime import open_runtime  # noqa: E402
from ragstore.service import files, ingestion, stores  # noqa: E402
from ragstore.store import embedded  # noqa: E402
from ragstore.worker import Worker, ingestion_tasks  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msmarco" / "corpus.jsonl"
CHUNK = ChunkingStrategy(220, 0)  # about 200-token chunks, no overlap: every token embedded once


def documents(count: int, per_file: int, chunker) -> list[tuple[str, bytes]]:  # noqa: ANN001
    """count files, each of msmarco passages adding up to about per_file chunks of CHUNK's size."""
    passages = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").split("\n") if line.strip()]
    found, current, tokens, i = [], [], 0, 0
    while len(found) < count:
        passage = passages[i % len(passages)]
        i += 1
        current.append(passage)
        tokens += chunker.count(passage)
        if tokens >= per_file * 200:
            found.append((f"doc{len(found):04d}.txt", "\n\n".join(current).encode()))
            current, tokens = [], 0
    return found


def run(backend: str, docs: list[tuple[str, bytes]], folder: Path) -> dict:
    settings = Settings(data_dir=folder / backend, embedding_backend=backend, workers=0)
    runtime = open_runtime(settings, create_embedder(settings))
    try:
        store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, "bench")
        began = time.perf_counter()
        ids = [files.upload(runtime.db, DEFAULT_TENANT, name, io.BytesIO(data)).id for name, data in docs]
        ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, ids, CHUNK, None)
        Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain()
        wall = time.perf_counter() - began
        store = stores.get(runtime.db, DEFAULT_TENANT, store.id)
        with runtime.db.tenant(DEFAULT_TENANT) as conn:
            texts = [r["text"] for r in conn.execute("SELECT text FROM chunks ORDER BY id")]
        began, cpu = time.perf_counter(), time.process_time()
        embed_chunks(runtime.embedder, runtime.chunker, texts)
        model, cpu = time.perf_counter() - began, time.process_time() - cpu
        tokens = sum(runtime.chunker.count(t) for t in texts)
    finally:
        runtime.close()
        embedded.stop(settings.pgdata)
    assert store.file_counts.completed == len(docs), store.file_counts
    return {
        "backend": backend,
        "files": len(docs),
        "chunks": len(texts),
        "mean_tokens": tokens / len(texts),
        "end_to_end_chunks_per_s": len(texts) / wall,
        "model_chunks_per_s": len(texts) / model,
        # Steadier than wall time on a shared machine: what the cores, all ours, would give.
        "model_chunks_per_cpu_s": len(texts) / cpu,
        "ratio": (len(texts) / wall) / (len(texts) / model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--chunks-per-file", type=int, default=8)
    parser.add_argument("--backends", default="onnx-int8,torch")
    args = parser.parse_args()
    from ragstore.ingest.embed import default_chunker

    docs = documents(args.files, args.chunks_per_file, default_chunker())
    folder = Path(tempfile.mkdtemp(prefix="ragstore-bench-ingest-"))
    load_before = os.getloadavg()
    try:
        rows = [run(backend, docs, folder) for backend in args.backends.split(",")]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{'backend':<10} {'chunks':>6} {'tokens':>6} {'end to end':>12} {'model alone':>12} {'ratio':>6} "
        f"{'model per CPU-s':>16}"
    )
    for r in rows:
        print(
            f"{r['backend']:<10} {r['chunks']:>6} {r['mean_tokens']:>6.0f} {r['end_to_end_chunks_per_s']:>10.1f}/s "
            f"{r['model_chunks_per_s']:>10.1f}/s {r['ratio']:>6.2f} {r['model_chunks_per_cpu_s']:>14.1f}/s"
        )
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    after = machine["load_after"][0]
    print(f"machine: {machine['cpus']} CPUs, load average {load_before[0]:.1f} before, {after:.1f} after")
    out = Path(__file__).parent / "results" / "ingest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "machine": machine}, indent=2) + "\n")


if __name__ == "__main__":
    main()
