"""Retrieval quality per collection and ranker, through ragstore's ingestion and its HTTP search API.

    make bench-quality                  # or: .venv/bin/python bench/quality.py [--no-fp32]

A fresh embedded PostgreSQL; every collection of ../shared/data ingested through ragstore's pipeline (one chunk per
document, the default int8 model); a `ragstore serve` on it; then each judged query and each exact-token query
(bench/data/exact-tokens) sent to POST /v1/vector_stores/{id}/search with ranking_options.ranker none (dense),
lexical and auto (the default), max_num_results 10. Per collection, query set and ranker: nDCG@10, recall@10,
MRR@10 and the request's p50 in ms.

"Nothing lost" (unless --no-fp32): the same passages and queries embedded by the exact fp32 model
(sentence-transformers) and searched exactly in numpy, against ragstore's dense search with everything it trades:
int8 model, halfvec storage and the HNSW walk (forced, in this process: these stores are small enough for the exact
scan otherwise).

Writes bench/results/quality.json, with bench/results/fusion_study.json's variants when that file is there.
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
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import exact_tokens  # noqa: E402
from bench.api import serve  # noqa: E402
from bench.fusion_study import COLLECTIONS, DATA, RESULTS, ingest  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.ingest.embed import LocalEmbedder  # noqa: E402
from ragstore.models import DEFAULT_TENANT  # noqa: E402
from ragstore.runtime import Runtime, open_runtime  # noqa: E402
from ragstore.service import evaluation, relevance, search  # noqa: E402
from ragstore.store import embedded  # noqa: E402

RANKERS = {"dense": "none", "lexical": "lexical", "default (auto)": "auto"}
K = 10


def scores(rankings: dict[str, list[str]], judgments: dict[str, dict[str, int]]) -> dict[str, float]:
    metrics = {"ndcg@10": relevance.ndcg, "recall@10": relevance.recall, "mrr@10": relevance.mrr}
    return {
        name: statistics.fmean(metric(rankings[q], judgments[q], K) for q in rankings)
        for name, metric in metrics.items()
    }


def over_http(client: httpx.Client, store_id: str, queries: dict[str, str], ranker: str) -> tuple[dict, float]:
    """Each query's top-10 document ids through the API, and the requests' median latency in ms."""
    rankings, latencies = {}, []
    for qid, text in queries.items():
        body = {"query": text, "max_num_results": K, "ranking_options": {"ranker": ranker}}
        began = time.perf_counter()
        response = client.post(f"/v1/vector_stores/{store_id}/search", json=body)
        latencies.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        ids = [str((item["attributes"] or {}).get("_id")) for item in response.json()["data"]]
        rankings[qid] = list(dict.fromkeys(ids))
    return rankings, statistics.median(latencies)


def query_sets(collection: str) -> dict[str, tuple[dict[str, str], dict[str, dict[str, int]]]]:
    dataset = evaluation.load(DATA / collection)
    return {"judged": (dataset.queries, dataset.judgments), "exact tokens": exact_tokens.load(collection)}


def nothing_lost(runtime: Runtime, store_id: str, collection: str, fp32: LocalEmbedder) -> dict[str, float]:
    """nDCG@10 of exact fp32 numpy search against ragstore's int8 + halfvec + HNSW dense search."""
    lines = (DATA / collection / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
    documents = [json.loads(line) for line in lines if line.strip()]
    passages = fp32.embed([d["text"] for d in documents])
    queries, judgments = query_sets(collection)["judged"]
    exact = {}
    for qid, vector in zip(queries, fp32.embed(list(queries.values())), strict=True):
        top = np.argsort(-(passages @ vector), kind="stable")[:K]
        exact[qid] = [str(documents[i]["_id"]) for i in top]
    saved = search.EXACT_MAX_CHUNKS, search.SLIVER_MAX_CHUNKS
    search.EXACT_MAX_CHUNKS = search.SLIVER_MAX_CHUNKS = 0  # the HNSW walk, as a store past 10k chunks gets
    try:
        walked = {}
        for qid, text in queries.items():
            hits = search.search(runtime.db, runtime.embedder, DEFAULT_TENANT, [store_id], text, K, ranker="dense")
            walked[qid] = list(dict.fromkeys(str(hit.attributes.get("_id")) for hit in hits))
    finally:
        search.EXACT_MAX_CHUNKS, search.SLIVER_MAX_CHUNKS = saved
    fp32_ndcg, ours = scores(exact, judgments)["ndcg@10"], scores(walked, judgments)["ndcg@10"]
    return {"fp32_exact_ndcg@10": fp32_ndcg, "int8_halfvec_hnsw_ndcg@10": ours, "loss": fp32_ndcg - ours}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="ragstore-quality-"))
    database_url = embedded.start(folder / "pgdata")
    runtime = open_runtime(Settings(database_url=database_url, data_dir=folder))
    server = None
    report: dict[str, Any] = {"collections": {}, "nothing_lost": {}}
    try:
        stores = {collection: ingest(runtime, collection) for collection in COLLECTIONS}
        server, client = serve(database_url, folder)
        for collection, store_id in stores.items():
            rows: dict[str, Any] = {}
            for label, (queries, judgments) in query_sets(collection).items():
                rows[label] = {"queries": len(queries)}
                for name, ranker in RANKERS.items():
                    rankings, p50 = over_http(client, store_id, queries, ranker)
                    rows[label][name] = {**scores(rankings, judgments), "p50_ms": p50}
            report["collections"][collection] = rows
        if args.fp32:
            fp32 = LocalEmbedder("all-MiniLM-L6-v2", batch_size=32)
            for collection, store_id in stores.items():
                report["nothing_lost"][collection] = nothing_lost(runtime, store_id, collection, fp32)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        runtime.close()
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)
    return report


def print_table(report: dict[str, Any]) -> None:
    print(f"{'collection':<17} {'queries':<13} {'ranker':<15} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} {'p50 ms':>7}")
    for collection, rows in report["collections"].items():
        for label, row in rows.items():
            for name in RANKERS:
                m = row[name]
                print(
                    f"{collection:<17} {label + ' (' + str(row['queries']) + ')':<13} {name:<15} "
                    f"{m['ndcg@10']:>8.4f} {m['recall@10']:>7.4f} {m['mrr@10']:>7.4f} {m['p50_ms']:>7.1f}"
                )
    for collection, found in report["nothing_lost"].items():
        print(
            f"{collection}: fp32 exact {found['fp32_exact_ndcg@10']:.4f}, int8 + halfvec + HNSW "
            f"{found['int8_halfvec_hnsw_ndcg@10']:.4f}, loss {found['loss']:+.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-fp32", dest="fp32", action="store_false", help="skip the fp32 comparison")
    args = parser.parse_args()
    report = measure(args)
    study = RESULTS / "fusion_study.json"
    if study.exists():
        report["fusion_study"] = json.loads(study.read_text())
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
