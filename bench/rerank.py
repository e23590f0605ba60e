"""What the reranking stage adds to a search's latency, ragstore's share of it: the stand-in model answers at once.

    .venv/bin/python bench/rerank.py [--queries 50]

A fresh embedded PostgreSQL with business-reports (671 chunks) ingested through ragstore's pipeline; `ragstore serve`
with RAGSTORE_RERANK_BASE_URL pointing at tests/support/rerank_server.py's stand-in (a real HTTP server in this
process, which reorders instantly); each query of the collection searched with ranking_options {"ranker": "auto"}
and {"ranker": "auto", "rerank": true} (RAGSTORE_RERANK_CANDIDATES 50 by default), alternating, max_num_results 10.
Prints p50 / p99 of each and writes bench/results/rerank.json. A real model adds its own inference time on top
(for a cross-encoder, tens of ms per 50 passages on a GPU, more on a CPU).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import serve  # noqa: E402
from bench.fusion_study import DATA, RESULTS, ingest  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.runtime import open_runtime  # noqa: E402
from ragstore.service import evaluation  # noqa: E402
from ragstore.store import embedded  # noqa: E402
from tests.support.rerank_server import rerank_server  # noqa: E402

COLLECTION = "business-reports"


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": statistics.median(ordered), "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    lines = (DATA / COLLECTION / "queries.jsonl").read_text(encoding="utf-8").split("\n")
    texts = [json.loads(line)["text"] for line in lines if line.strip()][: args.queries]
    evaluation.load(DATA / COLLECTION)  # checks the layout
    folder = Path(tempfile.mkdtemp(prefix="ragstore-rerank-"))
    database_url = embedded.start(folder / "pgdata")
    runtime = open_runtime(Settings(database_url=database_url, data_dir=folder))
    server = None
    times: dict[str, list[float]] = {"auto": [], "auto + rerank": []}
    try:
        store_id = ingest(runtime, COLLECTION)
        with rerank_server() as model:
            server, client = serve(database_url, folder, RAGSTORE_RERANK_BASE_URL=model.url)
            options = {"auto": {"ranker": "auto"}, "auto + rerank": {"ranker": "auto", "rerank": True}}
            client.post(f"/v1/vector_stores/{store_id}/search", json={"query": "warm up"}).raise_for_status()
            for text in texts:
                for name, ranking in options.items():
                    body = {"query": text, "max_num_results": 10, "ranking_options": ranking}
                    began = time.perf_counter()
                    client.post(f"/v1/vector_stores/{store_id}/search", json=body).raise_for_status()
                    times[name].append((time.perf_counter() - began) * 1000)
            calls = len(model.requests)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        runtime.close()
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    report = {name: summary(values) for name, values in times.items()}
    report["rerank_calls"] = calls
    for name in times:
        print(f"{name:<14} p50 {report[name]['p50_ms']:7.2f} ms   p99 {report[name]['p99_ms']:7.2f} ms")
    print(f"added p50: {report['auto + rerank']['p50_ms'] - report['auto']['p50_ms']:.2f} ms ({calls} reranker calls)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rerank.json").write_text(json.dumps({**report, "all_ms": times}, indent=2))


if __name__ == "__main__":
    main()
